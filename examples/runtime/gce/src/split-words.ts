/**
 * Splits option text such as `--internal-ip --ssh-flag="-o ServerAliveInterval=30"` into words the
 * way a POSIX shell would, without running one: whitespace separates words, single quotes keep
 * everything, double quotes keep everything but `\"` and `\\`, a backslash outside quotes escapes
 * the next character. Nothing is expanded. Throws an Error on an unterminated quote.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end < 0) throw new Error('unterminated single quote');
      word += text.slice(index + 1, end);
      inWord = true;
      index = end + 1;
    } else if (char === '"') {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('unterminated double quote');
        const inner = text[index]!;
        if (inner === '"') break;
        if (inner === '\\' && (text[index + 1] === '"' || text[index + 1] === '\\')) {
          word += text[index + 1];
          index += 2;
        } else {
          word += inner;
          index++;
        }
      }
      inWord = true;
      index++;
    } else if (char === '\\') {
      if (index + 1 < text.length) word += text[index + 1];
      inWord = true;
      index += 2;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      index++;
    } else {
      word += char;
      inWord = true;
      index++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
