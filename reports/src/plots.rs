//! Charts of a run over simulated time, SVG and PNG, drawn with plotters.
//!
//! Every chart has a title, axis labels with units, a legend strip under the plot (so it
//! never hides data), and the run's fault intervals shaded and labelled by kind above the
//! plot area. Text is drawn with the bundled DejaVu Sans through `ab_glyph`, registered
//! once, so PNGs render the same on a machine without system fonts.
//!
//! Values are plotted at the middle of their metrics window; windows without data (no
//! request resolved, no latency sample) leave gaps rather than drawing zeros.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::ReportError;
use crate::record::{FaultInterval, RunRecord};
use crate::stats;

/// The bundled font (DejaVu Sans, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name charts ask for.
const FAMILY: &str = "sans-serif";
static REGISTER: Once = Once::new();

/// Registers the bundled font with plotters, once per process.
pub fn ensure_font() {
    REGISTER.call_once(|| {
        // The font is a compile-time constant that parses; a failure here would be a
        // build defect, and text would then be missing rather than the run failing.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Chart size in pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (1000, 560);

/// A chart written to disk as SVG and PNG.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// Base name, e.g. `availability`.
    pub name: String,
    /// The `.svg` file.
    pub svg_path: PathBuf,
    /// The `.png` file.
    pub png_path: PathBuf,
    /// The SVG text, for inlining in HTML.
    pub svg: String,
}

/// Series colours (Tableau 10), one per series or variant, in order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x59, 0x59, 0x59),
];

/// Stroke width of the `i`-th of `n` overlaid variants: earlier ones are drawn wider so a
/// later variant with the same values does not hide them completely.
fn overlay_width(i: usize, n: usize) -> u32 {
    2 + (n.saturating_sub(i + 1)).min(4) as u32
}

/// Colour of the `i`-th series or variant.
fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Shading colour of a fault kind.
fn fault_color(kind: &str) -> RGBColor {
    match kind {
        "crash" => RGBColor(0xd6, 0x27, 0x28),
        "partition" => RGBColor(0x94, 0x67, 0xbd),
        "omission" => RGBColor(0xff, 0x7f, 0x0e),
        "timing" => RGBColor(0xbc, 0xbd, 0x22),
        "pause" => RGBColor(0x8c, 0x56, 0x4b),
        "clock" => RGBColor(0x17, 0xbe, 0xcf),
        "slowdown" => RGBColor(0xe3, 0x77, 0xc2),
        _ => RGBColor(0x7f, 0x7f, 0x7f),
    }
}

/// Darker shade of a colour for text on white.
fn darker(c: RGBColor) -> RGBColor {
    RGBColor(
        (f64::from(c.0) * 0.6) as u8,
        (f64::from(c.1) * 0.6) as u8,
        (f64::from(c.2) * 0.6) as u8,
    )
}

/// One line on a chart.
#[derive(Clone, Debug)]
struct Series {
    label: String,
    color: RGBColor,
    /// (x, y) points; `None` y leaves a gap.
    points: Vec<(f64, Option<f64>)>,
    dashed: bool,
    /// Stroke width in pixels.
    width: u32,
}

/// A dashed horizontal reference line (e.g. the SLO).
#[derive(Clone, Debug)]
struct HLine {
    label: String,
    y: f64,
    color: RGBColor,
}

/// A chart of values over simulated time.
#[derive(Clone, Debug)]
struct TimeChart {
    title: String,
    y_label: String,
    x_max: f64,
    y_range: (f64, f64),
    log_y: bool,
    series: Vec<Series>,
    hlines: Vec<HLine>,
    faults: Vec<FaultInterval>,
}

/// Legend entry shapes.
enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Box(RGBColor),
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

const TITLE_PX: u32 = 22;
const AXIS_PX: u32 = 17;
const TICK_PX: u32 = 14;
const LABEL_PX: u32 = 13;
const LEGEND_PX: u32 = 15;
const FAULT_ROWS: usize = 3;
const FAULT_ROW_H: i32 = 17;

/// Tick label: integers without decimals, otherwise up to three trimmed decimals.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round())
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl TimeChart {
    fn legend_entries(&self) -> Vec<(Swatch, String)> {
        let mut out: Vec<(Swatch, String)> = Vec::new();
        for s in &self.series {
            let sw = if s.dashed {
                Swatch::Dashed(s.color)
            } else {
                Swatch::Line(s.color, s.width)
            };
            out.push((sw, s.label.clone()));
        }
        for h in &self.hlines {
            out.push((Swatch::Dashed(h.color), h.label.clone()));
        }
        let mut kinds: Vec<&str> = self.faults.iter().map(|f| f.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for k in kinds {
            out.push((Swatch::Box(fault_color(k)), format!("{k} fault")));
        }
        out
    }

    /// Lays out legend entries in rows; returns (x offset, row) per entry and row count.
    fn legend_layout<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        entries: &[(Swatch, String)],
        width: i32,
    ) -> Result<(Vec<(i32, i32)>, i32), String> {
        let font: TextStyle = (FAMILY, LEGEND_PX).into_font().into();
        let mut pos = Vec::new();
        let (mut x, mut row) = (0i32, 0i32);
        for (_, label) in entries {
            let (tw, _) = root.estimate_text_size(label, &font).map_err(err)?;
            let w = 34 + tw as i32 + 22;
            if x > 0 && x + w > width {
                x = 0;
                row += 1;
            }
            pos.push((x, row));
            x += w;
        }
        Ok((pos, if entries.is_empty() { 0 } else { row + 1 }))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        ensure_font();
        root.fill(&WHITE).map_err(err)?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        // Title.
        let title_font = (FAMILY, TITLE_PX).into_font().color(&BLACK);
        let (tw, _) = root
            .estimate_text_size(&self.title, &title_font)
            .map_err(err)?;
        root.draw(&Text::new(
            self.title.clone(),
            ((w - tw as i32) / 2, 10),
            title_font,
        ))
        .map_err(err)?;
        let labelled_faults = !self.faults.is_empty();
        let top = 42
            + if labelled_faults {
                FAULT_ROWS as i32 * FAULT_ROW_H + 4
            } else {
                0
            };
        let entries = self.legend_entries();
        let (legend_pos, legend_rows) = self.legend_layout(root, &entries, w - 120)?;
        let legend_h = 12 + legend_rows * 24;
        let (_, rest) = root.split_vertically(top);
        let (chart_area, legend_area) = rest.split_vertically(h - top - legend_h);
        let mut builder = ChartBuilder::on(&chart_area);
        builder
            .margin_left(10)
            .margin_right(30)
            .margin_top(4)
            .margin_bottom(4)
            .x_label_area_size(48)
            .y_label_area_size(78);
        let x_max = if self.x_max > 0.0 { self.x_max } else { 1.0 };
        let (y_lo, y_hi) = self.y_range;
        if self.log_y {
            let mut chart = builder
                .build_cartesian_2d(0.0..x_max, (y_lo..y_hi).log_scale())
                .map_err(err)?;
            self.fill(&mut chart, root, y_lo, y_hi)?;
        } else {
            let mut chart = builder
                .build_cartesian_2d(0.0..x_max, y_lo..y_hi)
                .map_err(err)?;
            self.fill(&mut chart, root, y_lo, y_hi)?;
        }
        // Legend strip.
        let x0 = 88;
        let font = (FAMILY, LEGEND_PX).into_font().color(&BLACK);
        for ((swatch, label), (dx, row)) in entries.iter().zip(legend_pos) {
            let x = x0 + dx;
            let y = 8 + row * 24;
            let mid = y + 9;
            match swatch {
                Swatch::Line(c, width) => legend_area
                    .draw(&PathElement::new(
                        vec![(x, mid), (x + 28, mid)],
                        c.stroke_width(*width + 1),
                    ))
                    .map_err(err)?,
                Swatch::Dashed(c) => {
                    for k in 0..3 {
                        let a = x + k * 11;
                        legend_area
                            .draw(&PathElement::new(
                                vec![(a, mid), (a + 7, mid)],
                                c.stroke_width(2),
                            ))
                            .map_err(err)?;
                    }
                }
                Swatch::Box(c) => {
                    legend_area
                        .draw(&Rectangle::new(
                            [(x, y + 1), (x + 28, y + 17)],
                            c.mix(0.25).filled(),
                        ))
                        .map_err(err)?;
                    legend_area
                        .draw(&Rectangle::new([(x, y + 1), (x + 28, y + 17)], c.mix(0.6)))
                        .map_err(err)?;
                }
            }
            legend_area
                .draw(&Text::new(label.clone(), (x + 34, y + 1), font.clone()))
                .map_err(err)?;
        }
        Ok(())
    }

    fn fill<DB, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        root: &DrawingArea<DB, Shift>,
        y_lo: f64,
        y_hi: f64,
    ) -> DrawResult
    where
        DB: DrawingBackend,
        Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(self.y_label.as_str())
            .axis_desc_style((FAMILY, AXIS_PX))
            .label_style((FAMILY, TICK_PX))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_labels(12)
            .y_labels(8)
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(BLACK.mix(0.04))
            .draw()
            .map_err(err)?;
        let x_max = if self.x_max > 0.0 { self.x_max } else { 1.0 };
        let min_w = x_max / 500.0;
        // Fault shading first, under the lines.
        for f in &self.faults {
            let start = f.start_s.clamp(0.0, x_max);
            let end = f
                .end_s
                .unwrap_or(x_max)
                .clamp(0.0, x_max)
                .max(start + min_w);
            let c = fault_color(&f.kind);
            let alpha = if f.kind == "clock" { 0.07 } else { 0.18 };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(start, y_lo), (end, y_hi)],
                    c.mix(alpha).filled(),
                )))
                .map_err(err)?;
        }
        for hl in &self.hlines {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, hl.y), (x_max, hl.y)],
                    8,
                    5,
                    hl.color.stroke_width(2),
                ))
                .map_err(err)?;
        }
        for s in &self.series {
            for seg in segments(&s.points, self.log_y) {
                if seg.len() == 1 {
                    chart
                        .draw_series(std::iter::once(Circle::new(seg[0], 3, s.color.filled())))
                        .map_err(err)?;
                } else if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(
                            seg,
                            8,
                            5,
                            s.color.stroke_width(s.width),
                        ))
                        .map_err(err)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(seg, s.color.stroke_width(s.width)))
                        .map_err(err)?;
                }
            }
        }
        self.label_faults(chart, root, x_max, y_hi)
    }

    /// Labels fault intervals above the plot area, in up to [`FAULT_ROWS`] rows; a label
    /// that fits in no row is shortened to the kind, then left out (the fault table in the
    /// report lists every fault).
    fn label_faults<DB, Y>(
        &self,
        chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        root: &DrawingArea<DB, Shift>,
        x_max: f64,
        y_hi: f64,
    ) -> DrawResult
    where
        DB: DrawingBackend,
        Y: Ranged<ValueType = f64>,
    {
        let (right, top_y) = chart.backend_coord(&(x_max, y_hi));
        let mut row_end = [i32::MIN; FAULT_ROWS];
        let mut order: Vec<&FaultInterval> = self.faults.iter().collect();
        order.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        let base = top_y - FAULT_ROWS as i32 * FAULT_ROW_H - 4;
        for f in order {
            let (x, _) = chart.backend_coord(&(f.start_s.clamp(0.0, x_max), y_hi));
            let font: TextStyle = (FAMILY, LABEL_PX)
                .into_font()
                .color(&darker(fault_color(&f.kind)));
            let full = stats::fault_label(f);
            for text in [full, f.kind.clone()] {
                let (tw, _) = root.estimate_text_size(&text, &font).map_err(err)?;
                let tw = tw as i32;
                let lx = x.min(right - tw).max(0);
                if let Some(row) = (0..FAULT_ROWS).find(|r| lx >= row_end[*r] + 8) {
                    row_end[row] = lx + tw;
                    let y = base + row as i32 * FAULT_ROW_H;
                    root.draw(&Text::new(text, (lx, y), font.clone()))
                        .map_err(err)?;
                    // Tick from the label down to the plot area at the fault start.
                    root.draw(&PathElement::new(
                        vec![(x, y + FAULT_ROW_H - 3), (x, top_y)],
                        darker(fault_color(&f.kind)).mix(0.5).stroke_width(1),
                    ))
                    .map_err(err)?;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Splits points at gaps (and, on a log axis, at values that are not positive).
fn segments(points: &[(f64, Option<f64>)], log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(x, y) in points {
        match y {
            Some(v) if v.is_finite() && (!log_y || v > 0.0) => cur.push((x, v)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Writes a chart as `<name>.svg` and `<name>.png` in `dir`.
fn render(dir: &Path, name: &str, chart: &TimeChart) -> Result<Plot, ReportError> {
    ensure_font();
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        chart.draw(&root).map_err(|m| ReportError::Plot {
            path: svg_path.clone(),
            message: m,
        })?;
        root.present().map_err(|e| ReportError::Plot {
            path: svg_path.clone(),
            message: e.to_string(),
        })?;
    }
    crate::io::write_file(&svg_path, svg.as_bytes())?;
    {
        let root = BitMapBackend::new(&png_path, SIZE).into_drawing_area();
        chart.draw(&root).map_err(|m| ReportError::Plot {
            path: png_path.clone(),
            message: m,
        })?;
        root.present().map_err(|e| ReportError::Plot {
            path: png_path.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(Plot {
        name: name.to_string(),
        svg_path,
        png_path,
        svg,
    })
}

/// Window midpoints and a value per window.
fn per_window(
    rec: &RunRecord,
    f: impl Fn(&crate::record::TimelineRow) -> Option<f64>,
) -> Vec<(f64, Option<f64>)> {
    let w = stats::window_s(rec);
    rec.timeline
        .iter()
        .map(|r| (r.t_s + w / 2.0, f(r)))
        .collect()
}

fn max_of(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

fn window_phrase(rec: &RunRecord) -> String {
    format!("per {} s window", tick(&stats::window_s(rec)))
}

fn slo_line(rec: &RunRecord) -> HLine {
    let slo = stats::slo(rec) * 100.0;
    HLine {
        label: format!("SLO {} %", tick(&slo)),
        y: slo,
        color: RGBColor(0x33, 0x33, 0x33),
    }
}

fn availability_chart(title: String, variants: &[(String, &RunRecord)]) -> TimeChart {
    let first = variants[0].1;
    let series: Vec<Series> = variants
        .iter()
        .enumerate()
        .map(|(i, (label, rec))| Series {
            label: label.clone(),
            color: palette(i),
            points: per_window(rec, |r| r.success_ratio().map(|a| a * 100.0)),
            dashed: false,
            width: overlay_width(i, variants.len()),
        })
        .collect();
    TimeChart {
        title,
        y_label: "success ratio (%)".to_string(),
        x_max: variants
            .iter()
            .map(|(_, r)| stats::duration_s(r))
            .fold(0.0, f64::max),
        y_range: (0.0, 105.0),
        log_y: false,
        series,
        hlines: vec![slo_line(first)],
        faults: first.summary.faults.clone(),
    }
}

/// Success ratio per window over time, fault intervals shaded, SLO as a dashed line.
pub fn availability(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let label = format!("success ratio ({})", window_phrase(rec));
    let chart = availability_chart(
        format!(
            "Availability: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        &[(label, rec)],
    );
    render(dir, "availability", &chart)
}

fn arrivals_series(rec: &RunRecord, label: String, color: RGBColor) -> Series {
    let w = stats::window_s(rec);
    Series {
        label,
        color,
        points: per_window(rec, |r| Some(r.server_arrivals as f64 / w)),
        dashed: false,
        width: 2,
    }
}

fn offered_series(rec: &RunRecord, label: String) -> Series {
    let w = stats::window_s(rec);
    Series {
        label,
        color: RGBColor(0x59, 0x59, 0x59),
        points: per_window(rec, |r| Some(r.offered as f64 / w)),
        dashed: true,
        width: 2,
    }
}

fn herd_chart(title: String, series: Vec<Series>, rec: &RunRecord, x_max: f64) -> TimeChart {
    let top = max_of(&series);
    TimeChart {
        title,
        y_label: "arrivals (req/s)".to_string(),
        x_max,
        y_range: (0.0, if top > 0.0 { top * 1.08 } else { 1.0 }),
        log_y: false,
        series,
        hlines: Vec::new(),
        faults: rec.summary.faults.clone(),
    }
}

/// Server arrivals per second over time (all attempts, retries included), with the
/// offered load (new logical requests per second) as a dashed second line.
pub fn herd(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let series = vec![
        arrivals_series(
            rec,
            "server arrivals (all attempts)".to_string(),
            palette(0),
        ),
        offered_series(rec, "offered load (new requests)".to_string()),
    ];
    let chart = herd_chart(
        format!(
            "Thundering herd: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        series,
        rec,
        stats::duration_s(rec),
    );
    render(dir, "herd", &chart)
}

/// p50 and p99 latency of successes per window, milliseconds; a log axis when the values
/// span more than a factor of 30.
pub fn latency(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let series = vec![
        Series {
            label: "p50".to_string(),
            color: palette(0),
            points: per_window(rec, |r| Some(r.latency_p50_ms)),
            dashed: false,
            width: 2,
        },
        Series {
            label: "p99".to_string(),
            color: palette(1),
            points: per_window(rec, |r| Some(r.latency_p99_ms)),
            dashed: false,
            width: 2,
        },
    ];
    let positive: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    let log_y = !positive.is_empty() && hi / lo > 30.0;
    let (y_range, y_label) = if log_y {
        ((lo / 1.5, hi * 1.5), "latency (ms, log scale)".to_string())
    } else {
        (
            (0.0, if hi > 0.0 { hi * 1.1 } else { 1.0 }),
            "latency (ms)".to_string(),
        )
    };
    let chart = TimeChart {
        title: format!(
            "Latency of successes: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        y_label,
        x_max: stats::duration_s(rec),
        y_range,
        log_y,
        series,
        hlines: Vec::new(),
        faults: rec.summary.faults.clone(),
    };
    render(dir, "latency", &chart)
}

/// Circuit breakers open at the end of each window.
pub fn breakers(dir: &Path, rec: &RunRecord) -> Result<Plot, ReportError> {
    let series = vec![Series {
        label: "breakers open".to_string(),
        color: palette(4),
        points: per_window(rec, |r| Some(r.breakers_open as f64)),
        dashed: false,
        width: 2,
    }];
    let top = max_of(&series).max(1.0);
    let chart = TimeChart {
        title: format!(
            "Circuit breakers: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        y_label: "breakers open (count)".to_string(),
        x_max: stats::duration_s(rec),
        y_range: (0.0, (top * 1.1).ceil()),
        log_y: false,
        series,
        hlines: Vec::new(),
        faults: rec.summary.faults.clone(),
    };
    render(dir, "breakers", &chart)
}

fn check_variants(variants: &[(String, RunRecord)]) -> Result<(), ReportError> {
    if variants.is_empty() {
        return Err(ReportError::Invalid {
            message: "a comparison needs at least one variant".to_string(),
        });
    }
    Ok(())
}

/// Availability of several variants overlaid, one colour each; faults and SLO of the
/// first variant.
pub fn availability_comparison(
    dir: &Path,
    title: &str,
    variants: &[(String, RunRecord)],
) -> Result<Plot, ReportError> {
    check_variants(variants)?;
    let refs: Vec<(String, &RunRecord)> = variants.iter().map(|(l, r)| (l.clone(), r)).collect();
    let chart = availability_chart(format!("Availability: {title}"), &refs);
    render(dir, "availability", &chart)
}

/// Server arrivals per second of several variants overlaid, one colour each; the offered
/// load is drawn once when every variant offered the same.
pub fn herd_comparison(
    dir: &Path,
    title: &str,
    variants: &[(String, RunRecord)],
) -> Result<Plot, ReportError> {
    check_variants(variants)?;
    let first = &variants[0].1;
    let mut series: Vec<Series> = variants
        .iter()
        .enumerate()
        .map(|(i, (label, rec))| Series {
            width: overlay_width(i, variants.len()),
            ..arrivals_series(rec, label.clone(), palette(i))
        })
        .collect();
    let offered_of = |r: &RunRecord| -> Vec<u64> { r.timeline.iter().map(|t| t.offered).collect() };
    if variants
        .iter()
        .all(|(_, r)| offered_of(r) == offered_of(first))
    {
        series.push(offered_series(
            first,
            "offered load (all variants)".to_string(),
        ));
    }
    let x_max = variants
        .iter()
        .map(|(_, r)| stats::duration_s(r))
        .fold(0.0, f64::max);
    let chart = herd_chart(format!("Server arrivals: {title}"), series, first, x_max);
    render(dir, "herd", &chart)
}
