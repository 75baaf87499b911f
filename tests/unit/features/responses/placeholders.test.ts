import { fillPlaceholders, firstName, placeholderValues } from '../../../../app/features/responses/responses.service';

describe('canned reply placeholders', () => {
  const values = placeholderValues(
    { id: 42, title: 'VPN <drops> & "reconnects"', requester_name: 'Zoë van Dijk', requester_login: 'CORP\\zoe' },
    { displayName: 'Carol Chen', login: 'CORP\\carol' },
  );

  test('when a reply names placeholders, then each is filled for the ticket and the agent, with spaces inside the braces allowed', () => {
    expect(fillPlaceholders('Hi {{requester.firstName}} ({{ requester.name }}), #{{ticket.id}} "{{ticket.title}}" — {{agent.firstName}} / {{agent.name}}', values)).toBe(
      'Hi Zoë (Zoë van Dijk), #42 "VPN <drops> & "reconnects"" — Carol / Carol Chen',
    );
  });

  test('when a value itself looks like a placeholder, then it is not filled again', () => {
    const sneaky = placeholderValues({ id: 1, title: '{{agent.name}}', requester_name: null, requester_login: 'CORP\\x' }, { login: 'CORP\\carol' });
    expect(fillPlaceholders('{{ticket.title}}', sneaky)).toBe('{{agent.name}}');
  });

  test('when a placeholder is unknown, then it stays as written, even one every object has', () => {
    expect(fillPlaceholders('{{requester.salary}}', values)).toBe('{{requester.salary}}');
    expect(fillPlaceholders('{{constructor}} {{__proto__}} {{toString}}', values)).toBe('{{constructor}} {{__proto__}} {{toString}}');
  });

  test('when there is no display name, then the first name comes from the login', () => {
    expect(firstName(null, 'CORP\\jsmith')).toBe('jsmith');
    expect(firstName('', 'jsmith@corp.example')).toBe('jsmith');
    expect(firstName('  Ann  Lee ', 'CORP\\al')).toBe('Ann');
  });
});
