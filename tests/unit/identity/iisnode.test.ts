import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { createIisnodeProvider } from '../../../app/identity/iisnode';

/** A request as iisnode hands it over: the client's headers, then the promoted variables. */
function request(headers: [string, string][]): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.rawHeaders = headers.flat();
  for (const [k, v] of headers) req.headers[k.toLowerCase()] = v;
  return req;
}

describe('the iisnode identity provider and REMOTE_ADDR', () => {
  const provider = createIisnodeProvider({ underIisnode: true });
  const anonymous: [string, string][] = [['X-iisnode-LOGON_USER', ''], ['X-iisnode-AUTH_USER', ''], ['X-iisnode-AUTH_TYPE', '']];

  test('when IIS promotes REMOTE_ADDR, then it is the client address of guests and people alike', () => {
    expect(provider.identify(request([...anonymous, ['X-iisnode-REMOTE_ADDR', '10.1.2.3']]))).toEqual({ kind: 'anonymous', address: '10.1.2.3' });
    const person = provider.identify(request([['X-iisnode-LOGON_USER', 'CORP\\alice'], ['X-iisnode-AUTH_TYPE', 'Negotiate'], ['X-iisnode-REMOTE_ADDR', 'fe80::1%12']]));
    expect(person).toMatchObject({ kind: 'person', identity: { login: 'CORP\\alice' }, address: 'fe80::1%12' });
  });

  test('when a client sends its own REMOTE_ADDR header, then the request is refused like a forged identity', () => {
    const forged = provider.identify(request([['x-IISNODE-remote_addr', '127.0.0.1'], ...anonymous, ['X-iisnode-REMOTE_ADDR', '10.1.2.3']]));
    expect(forged).toEqual({ kind: 'refused', reason: 'x-iisnode-remote_addr sent 2 times' });
  });

  test('when REMOTE_ADDR is not an address, then the request is refused', () => {
    expect(provider.identify(request([...anonymous, ['X-iisnode-REMOTE_ADDR', '10.1.2.3, 127.0.0.1']]))).toMatchObject({ kind: 'refused' });
    expect(provider.identify(request([...anonymous, ['X-iisnode-REMOTE_ADDR', 'localhost']]))).toMatchObject({ kind: 'refused' });
  });

  test('when IIS does not promote REMOTE_ADDR, then there is no address from the transport', () => {
    expect(provider.identify(request(anonymous))).toEqual({ kind: 'anonymous', address: undefined });
  });
});
