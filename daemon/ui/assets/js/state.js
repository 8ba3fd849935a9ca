// What the page shows now, shared by the views.

export const PAGE_SIZE = 50;

export const state = {
  ns: { ns: 'default', app: 'default' },
  search: { mode: 'prefix', text: '' },
  cursors: [''],      // the cursor of every page up to the current one ('' = first)
  page: { keys: [], next_cursor: null },
  selected: null,     // the id of the key whose page is open
  namespaces: [],     // from /v1/namespaces
};

// A key's identity in maps and data attributes (keys that are not UTF-8 come
// in base64).
export const keyId = (item) => (item.key_encoding === 'base64' ? `b64:${item.key}` : item.key);

// "shop" or "shop/mobile" (the app only when it is not "default").
export const nsLabel = (ns) => (ns.app && ns.app !== 'default' ? `${ns.ns}/${ns.app}` : ns.ns);

// Does `key` belong in the list under the current search?
export function matchesSearch(item) {
  const { mode, text } = state.search;
  if (!text) return true;
  if (item.key_encoding === 'base64') return false;
  if (mode === 'prefix') return item.key.startsWith(text);
  return item.key.toLowerCase().includes(text.toLowerCase());
}
