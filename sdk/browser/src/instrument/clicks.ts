// Clicks as user actions (`browser.click`): what was clicked, described by its tag, id,
// classes and a few attributes, never by its text (the text may be personal). An element or
// ancestor with `data-rs-name="…"` names the action explicitly.

import { type Client, guard } from '../client';
import type { Attrs } from '../config';

const INTERACTIVE = 'a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=menuitem],[role=tab],[onclick],[data-rs-name]';
const ATTRS = ['name', 'type', 'role', 'data-testid'];

function css(v: string): string {
  return v.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`);
}

/** `button#buy.primary[type=submit]`: no text content, at most two classes. */
export function describeElement(el: Element): string {
  let d = el.tagName.toLowerCase();
  if (el.id) d += `#${css(el.id)}`;
  const classes = typeof el.className === 'string' ? el.className.trim().split(/\s+/).filter(Boolean) : [];
  for (const c of classes.slice(0, 2)) d += `.${css(c)}`;
  for (const a of ATTRS) {
    const v = el.getAttribute(a);
    if (v && v.length <= 64) d += `[${a}=${JSON.stringify(v)}]`;
  }
  return d;
}

/** Up to four ancestors and the element: `main > form#checkout > button#pay`. */
export function elementPath(el: Element): string {
  const parts: string[] = [];
  let e: Element | null = el;
  while (e && parts.length < 5 && e.tagName !== 'HTML' && e.tagName !== 'BODY') {
    parts.unshift(describeElement(e));
    e = e.parentElement;
  }
  return parts.join(' > ');
}

export function installClicks(client: Client): void {
  document.addEventListener(
    'click',
    guard((ev: MouseEvent) => {
      if (!client.enabled) return;
      const target = ev.target instanceof Element ? ev.target : null;
      if (!target) return;
      const el = target.closest(INTERACTIVE) || target;
      const attrs: Attrs = {
        'browser.click.target': describeElement(el),
        'browser.click.path': elementPath(el),
      };
      const named = el.closest('[data-rs-name]');
      if (named) attrs['browser.click.name'] = named.getAttribute('data-rs-name') || undefined;
      if (el instanceof HTMLAnchorElement && el.href) attrs['browser.click.href'] = el.href;
      client.event('browser.click', attrs, { body: String(attrs['browser.click.name'] || attrs['browser.click.target']) });
    }),
    { capture: true, passive: true },
  );
}
