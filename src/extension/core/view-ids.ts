/** The views and the panel that package.json contributes; apart from the command ids so that the activation entry loads only these. */
export const VIEW_IDS = { container: 'parley', chat: 'parley.chat', people: 'parley.people', panel: 'parley.chatPanel' } as const;
