// Live updates: follows the current namespace's watch stream (GET /v1/watch,
// NDJSON) from the revision the page was loaded at, and hands each change to
// `onEvent`. A dropped stream resumes from the last revision seen, after a
// growing pause, at most MAX_RETRIES times in a row; then the badge says so
// and a click on it tries again.
import * as api from './api.js';
import { $ } from './dom.js';

const MAX_RETRIES = 6;

let controller = null;
let generation = 0;

function badge(state, title) {
  const el = $('#live');
  el.dataset.state = state;
  el.title = title;
  el.textContent = state === 'on' ? 'live' : state === 'retry' ? 'reconnecting' : 'paused';
}

export function stopLive() {
  generation += 1;
  controller?.abort();
  controller = null;
  badge('off', 'Live updates are off');
}

// Follows `ns` from `since`; `onGone` is called when kvd no longer has the
// events after our revision (the caller reloads, then calls startLive again).
export function startLive(ns, since, onEvent, onGone) {
  stopLive();
  const mine = generation;
  let revision = since;
  let failures = 0;
  const el = $('#live');
  el.onclick = null;

  const loop = async () => {
    while (mine === generation && failures < MAX_RETRIES) {
      controller = new AbortController();
      badge('on', `Live: following ${ns.ns}/${ns.app} from revision ${revision}`);
      try {
        await api.watch(ns, revision, (ev) => {
          failures = 0;
          revision = Math.max(revision, ev.revision);
          onEvent(ev);
        }, controller.signal);
      } catch (e) {
        if (mine !== generation || e.name === 'AbortError') return;
        if (e.status === 410) {
          onGone();
          return;
        }
        if (e.status === 401) return;
        failures += 1;
      }
      if (mine !== generation) return;
      badge('retry', 'Reconnecting to the watch stream…');
      await new Promise((r) => { setTimeout(r, Math.min(1000 * 2 ** failures, 15000)); });
    }
    if (mine === generation) {
      badge('off', 'Live updates stopped: click to try again');
      el.onclick = () => startLive(ns, revision, onEvent, onGone);
    }
  };
  loop();
}
