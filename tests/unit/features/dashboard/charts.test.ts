import { barChart, columnChart, lineChart, niceScale } from '../../../../app/features/dashboard/charts';

describe('charts as SVG', () => {
  test('when a scale is chosen, then its top is a round number at or above the largest value', () => {
    expect(niceScale(0)).toEqual({ top: 4, step: 1 });
    expect(niceScale(3)).toEqual({ top: 3, step: 1 });
    expect(niceScale(17)).toEqual({ top: 20, step: 5 });
    expect(niceScale(99)).toEqual({ top: 100, step: 25 });
    expect(niceScale(1234)).toEqual({ top: 1500, step: 500 });
  });

  test('when labels hold markup, then it is escaped; bars link for the mouse only and the picture is hidden from assistive technology', () => {
    const svg = barChart({ rows: [{ label: '<script>alert(1)</script>', segments: [{ value: 3, className: 'c-urgent', name: 'urgent', href: '/tickets?team=1&priority=urgent' }] }] });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('>&lt;script&gt;alert(1)&lt;/s…</text>');
    expect(svg).toContain('<a href="/tickets?team=1&amp;priority=urgent" tabindex="-1"><title>&lt;script&gt;alert(1)&lt;/script&gt;, urgent: 3</title>');
    expect(svg).toMatch(/^<svg class="chart chart-bars" [^>]*aria-hidden="true" focusable="false"/);
  });

  test('when there is nothing to draw, then every chart still draws its axes and no bar', () => {
    expect(columnChart({ labels: ['1 Mar', '2 Mar'], series: [{ name: 'raised', className: 'c-raised', values: [0, 0] }] })).toMatch(/height="0\.0"/);
    expect(lineChart({ labels: ['1 Mar'], series: [{ name: 'raised', className: 'l-raised', values: [0] }] })).toContain('<polyline class="l-raised" points="');
    expect(barChart({ rows: [] })).not.toContain('<rect');
  });
});
