import { excerpt } from '../../../../app/features/known-issues/known-issues.service';

describe('excerpt, a known issue summary as one line for lists', () => {
  test('when the summary is short, then it is kept whole with its whitespace folded', () => {
    expect(excerpt('Outlook is down.\n\n  Use webmail.', 160)).toBe('Outlook is down. Use webmail.');
  });

  test('when the summary is long, then it is cut at a word and marked', () => {
    const cut = excerpt('word '.repeat(100), 42);
    expect(cut.length).toBeLessThanOrEqual(42);
    expect(cut).toMatch(/^(word )*word…$/);
  });
});
