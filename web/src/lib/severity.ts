// Severity bands of the Logs page, as the server's /logs/histogram and /logs/facets name them
// (a record is in the first band whose lowest severity number it reaches), with their colours.
export const BANDS = [
  { name: 'FATAL', min: 21, color: '#a3141a' },
  { name: 'ERROR', min: 17, color: '#e5484d' },
  { name: 'WARN', min: 13, color: '#d98a00' },
  { name: 'INFO', min: 9, color: '#2f6fed' },
  { name: 'DEBUG', min: 5, color: '#8b95a3' },
  { name: 'TRACE', min: 1, color: '#b4bcc8' },
  { name: 'UNSET', min: 0, color: '#9aa5b1' },
];

/** The Logs page's filters, from its URL; the server applies them (see requests.ts). */
export interface LogFilters {
  service: string;
  q: string;
  severity: string;
  trace_id: string;
  template_id: string;
}
