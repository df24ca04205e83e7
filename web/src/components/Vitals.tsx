// Web Vitals on screen: a card per vital (p75 and the good / needs-improvement / poor bar) and
// a compact value coloured by its rating.
import { fmtCount } from '../lib/format';
import { fmtVital, rate, RATING_LABEL, shareSegments, VITAL_NAMES, VITALS, vitalOf, type Rating } from '../lib/vitals';
import type { VitalsGroup } from '../lib/webapi';

export function RatingBar({ stats }: { stats: { count: number; good: number; needs_improvement: number; poor: number } }) {
  const segs = shareSegments(stats);
  if (!segs.length) return <div class="rating-bar empty" />;
  return (
    <div class="rating-bar" role="img" aria-label={segs.map((s) => `${s.pct}% ${RATING_LABEL[s.rating]}`).join(', ')}>
      {segs.map((s) =>
        s.pct > 0 ? (
          <span class={`seg-${s.rating}`} style={{ width: `${s.pct}%` }} title={`${s.pct}% ${RATING_LABEL[s.rating]}`} data-rating={s.rating}>
            {s.pct >= 12 ? `${s.pct}%` : ''}
          </span>
        ) : null,
      )}
    </div>
  );
}

/** A vital's value, coloured by its rating (`rating` when the data says, else the thresholds). */
export function VitalValue({ name, value, rating }: { name: string; value: number | null | undefined; rating?: string | null }) {
  const r = (rating as Rating | null | undefined) ?? rate(name, value);
  return (
    <span class={`vital-value ${r ? `r-${r}` : ''}`} title={r ? `${name}: ${RATING_LABEL[r]}` : name} data-vital={name}>
      {fmtVital(name, value)}
    </span>
  );
}

/** p75 and rating shares of each vital of `group`. */
export function VitalsCards({ group }: { group: VitalsGroup | undefined }) {
  return (
    <div class="vitals-cards" data-testid="vitals-cards">
      {VITALS.map((name) => {
        const v = vitalOf(group, name);
        return (
          <div class="stat vital-card" data-testid={`vital-${name}`}>
            <div class="label" title={VITAL_NAMES[name]}>
              {name} <span class="muted">p75</span>
            </div>
            <div class="value" data-testid="vital-p75">
              {v ? <VitalValue name={name} value={v.p75} /> : <span class="muted">—</span>}
            </div>
            {v ? <RatingBar stats={v} /> : <div class="rating-bar empty" />}
            <div class="muted small">{v ? `${fmtCount(v.count)} page views` : 'not measured'}</div>
          </div>
        );
      })}
    </div>
  );
}
