/** How the terminal's two modes fit together: said after the command list by `help`, and in the README. */
export const MODES_HELP = [
  'Command mode (prompt "> ") is the original\'s: every line is a command, and "/" before one changes nothing.',
  '"join #<channel>" or "query <user>" opens a conversation: the prompt names it ("#general> ", "bob> "), plain lines',
  'are sent to it, and commands start with "/" ("/wholast 5"; "//" sends a line that starts with "/"). "/close" goes',
  'back to command mode. "query <user> private" talks over the direct, encrypted chat, never through the server, and',
  'its prompt says so ("bob (private, encrypted)> "). Messages from other conversations still show, marked with',
  'their channel ("[#general] alice: hi") or "(direct)"; "(mentions you)" marks a channel message that names you.',
].join('\n');
