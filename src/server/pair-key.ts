/** One Map or Set key for a pair of strings: names and addresses, none of which can hold U+0000. */
export const pairKey = (first: string, second: string): string => `${first}\u0000${second}`;
