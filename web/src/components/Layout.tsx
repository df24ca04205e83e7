import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { bumpRefresh, useRange, useThemeIsDark } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import { describeRange, fromLocalInput, PRESETS, toLocalInput } from '../lib/time';
import { Link } from './Link';

const NAV = [
  { path: '/services', label: 'Services', icon: 'M3 4h14v3H3zM3 9h14v3H3zM3 14h14v3H3z' },
  { path: '/triage', label: 'Triage', icon: 'M10 3l8 14H2zM10 8v4M10 14.5h.01' },
  { path: '/alerts', label: 'Alerts', icon: 'M10 3a5 5 0 0 1 5 5v3l2 3H3l2-3V8a5 5 0 0 1 5-5zM8 17a2 2 0 0 0 4 0' },
  { path: '/map', label: 'Service map', icon: 'M5 4a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM15 3a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM15 13a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM6.8 6.6l6.4-1.4M6.5 7.5l7 6.5' },
  { path: '/traces', label: 'Traces', icon: 'M3 4h8v2H3zM6 8h9v2H6zM9 12h5v2H9zM7 16h10v2H7z' },
  { path: '/logs', label: 'Logs', icon: 'M4 3h12v14H4zM7 7h6M7 10h6M7 13h4' },
  { path: '/metrics', label: 'Metrics', icon: 'M3 16l4-6 4 3 6-9' },
  { path: '/dashboards', label: 'Dashboards', icon: 'M3 3h6v8H3zM11 3h6v5h-6zM11 10h6v7h-6zM3 13h6v4H3z' },
  { path: '/usage', label: 'Usage', icon: 'M3 17V9h3v8zM8.5 17V4h3v13zM14 17v-6h3v6z' },
  { path: '/pipeline', label: 'Pipeline', icon: 'M3 5h14l-5 6v5l-4 2v-7z' },
  { path: '/web', label: 'Web', icon: 'M3 5h14v10H3zM3 8h14M5.5 6.5h.01M7.5 6.5h.01M7 17h6' },
];

function Icon({ d }: { d: string }) {
  return (
    <svg width="18" height="18" viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d={d} />
    </svg>
  );
}

function ThemeToggle() {
  const dark = useThemeIsDark();
  const toggle = () => {
    const next = dark ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem('redscope.theme', next);
    } catch {
      /* private mode */
    }
    window.dispatchEvent(new Event('redscope-theme'));
  };
  return (
    <button class="btn ghost icon" onClick={toggle} title={dark ? 'Switch to light theme' : 'Switch to dark theme'} aria-label="Toggle theme">
      {dark ? '☀' : '☾'}
    </button>
  );
}

const REFRESH = ['off', '10s', '30s', '1m', '5m'];
const REFRESH_MS: Record<string, number> = { '10s': 10e3, '30s': 30e3, '1m': 60e3, '5m': 300e3 };

function TimePicker() {
  const range = useRange();
  const loc = useLocation();
  const refresh = loc.query.get('refresh') || 'off';
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  useEffect(() => {
    if (open) {
      setFrom(toLocalInput(range.fromMs));
      setTo(toLocalInput(range.toMs));
    }
  }, [open]);
  useEffect(() => {
    const ms = REFRESH_MS[refresh];
    if (!ms || !range.live) return;
    const id = setInterval(bumpRefresh, ms);
    return () => clearInterval(id);
  }, [refresh, range.live]);
  const active = range.to === 'now' ? /^now-(.+)$/.exec(range.from)?.[1] : undefined;
  const apply = () => {
    const f = fromLocalInput(from);
    const t = fromLocalInput(to);
    if (f && t) {
      setParams({ from: f, to: t });
      setOpen(false);
    }
  };
  return (
    <div class="timepicker">
      <div class="seg" role="group" aria-label="Time range">
        {PRESETS.map((p) => (
          <button class={`seg-btn ${active === p ? 'on' : ''}`} onClick={() => setParams({ from: `now-${p}`, to: null })} data-preset={p}>
            {p}
          </button>
        ))}
        <button class={`seg-btn ${!active ? 'on' : ''}`} onClick={() => setOpen(!open)} title="Absolute range" data-testid="custom-range">
          {active ? 'Custom' : describeRange(range)}
        </button>
      </div>
      {open && (
        <div class="popover" data-testid="range-popover">
          <label>
            From <input type="datetime-local" step="1" data-testid="range-from" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            To <input type="datetime-local" step="1" data-testid="range-to" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </label>
          <div class="row gap">
            <button class="btn primary" onClick={apply} data-testid="range-apply">
              Apply
            </button>
            <button class="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {!range.valid && <span class="warn-text">invalid range, showing last 1h</span>}
      <button class="btn ghost icon" onClick={bumpRefresh} title="Refresh now" aria-label="Refresh" data-testid="refresh-now">
        ↻
      </button>
      <select
        class="select small"
        value={refresh}
        title={range.live ? 'Auto-refresh' : 'Auto-refresh needs a range that ends now'}
        onChange={(e) => setParams({ refresh: (e.target as HTMLSelectElement).value === 'off' ? null : (e.target as HTMLSelectElement).value }, true)}
        aria-label="Auto-refresh"
        data-testid="auto-refresh"
      >
        {REFRESH.map((r) => (
          <option value={r}>{r === 'off' ? 'Auto-refresh off' : `Every ${r}`}</option>
        ))}
      </select>
    </div>
  );
}

export function Layout({ title, crumbs, children, actions }: { title: ComponentChildren; crumbs?: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren }) {
  const loc = useLocation();
  return (
    <div class="app">
      <nav class="sidebar" aria-label="Main">
        <Link href={href('/services')} class="brand">
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="16" cy="16" r="12" fill="none" stroke="var(--red)" stroke-width="4" />
            <circle cx="16" cy="16" r="4" fill="var(--red)" />
          </svg>
          <span>redscope</span>
        </Link>
        {NAV.map((n) => (
          <Link href={href(n.path)} class={`nav-item ${loc.path.startsWith(n.path) || (n.path === '/services' && loc.path.startsWith('/service/')) || (n.path === '/traces' && loc.path.startsWith('/trace/')) ? 'active' : ''}`}>
            <Icon d={n.icon} />
            <span>{n.label}</span>
          </Link>
        ))}
        <div class="nav-foot">
          <ThemeToggle />
        </div>
      </nav>
      <div class="main">
        <header class="topbar">
          <div class="titles">
            {crumbs && <div class="crumbs">{crumbs}</div>}
            <h1>{title}</h1>
          </div>
          <div class="top-actions">
            {actions}
            <TimePicker />
          </div>
          <div class="busybar" aria-hidden="true" />
        </header>
        <main class="content">{children}</main>
      </div>
    </div>
  );
}
