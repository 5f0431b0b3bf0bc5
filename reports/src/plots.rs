//! Charts of a run over simulated time, SVG and PNG, drawn with plotters.
//!
//! Every chart has a title, axis labels with units, a legend strip under the plot (so it
//! never hides data), and the run's fault intervals shaded and labelled by kind above the
//! plot area. When the faults and the recovery fill a small part of the run, a zoomed
//! panel of that span ([`crate::stats::zoom`]) sits beside the whole-run view. Text is
//! drawn with the bundled DejaVu Sans through `ab_glyph`, registered once, so PNGs
//! render the same on a machine without system fonts.
//!
//! Values are drawn as steps, each held over its metrics window; windows without data
//! (nothing offered, no latency sample) leave gaps rather than drawing zeros, while a
//! window whose offered requests all failed or never resolved is drawn at 0 %.
//!
//! - **Bounded size.** A panel draws at most two points per two pixels (the minimum and
//!   maximum of each bucket of windows, so spikes and outages survive), one shaded band
//!   per run of faults of a kind closer than a pixel, and at most [`MAX_TIPS`] hover
//!   regions; 100,000 windows and 10,000 faults make an SVG of a few hundred kilobytes.
//! - **Hover values without scripts.** Each SVG carries transparent regions with a
//!   `<title>` per window (or bucket of windows): time, values, faults active. Browsers
//!   show them as tooltips, in the SVG file and inline in the HTML report alike.
//! - **Marks.** A chart may carry marks on lanes (a snapshot from its start to its
//!   completion, a cross for one abandoned), drawn in device pixels so a mark of a few
//!   milliseconds stays visible, each with its own hover region.
//! - **Smooth PNGs.** plotters' bitmap backend does not anti-alias, so a PNG is drawn at
//!   [`SUPERSAMPLE`] times the size and box-filtered down (supersampling).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Once;

use maud::html;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::ReportError;
use crate::record::{FaultInterval, RunRecord, TimelineRow};
use crate::stats::{self, Span};
use crate::text::{count, fixed};

pub mod bank;
pub mod generic;
pub mod heatmap;

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
pub const SIZE: (u32, u32) = (1400, 560);

/// The PNG is drawn this many times larger in each direction, then box-filtered down.
pub const SUPERSAMPLE: u32 = 3;

/// Hover regions per panel at most; more windows are grouped into buckets.
pub const MAX_TIPS: usize = 240;

/// Share of the width the whole-run panel takes when a zoomed panel sits beside it.
const WHOLE_SHARE: f64 = 0.56;

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

const GREY: RGBColor = RGBColor(0x59, 0x59, 0x59);

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
    /// Stroke width in pixels (before supersampling).
    width: u32,
    /// Drawn before the other series, so the main line stays on top where they meet.
    under: bool,
}

/// A dashed horizontal reference line (e.g. the SLO).
#[derive(Clone, Debug)]
struct HLine {
    label: String,
    y: f64,
    color: RGBColor,
}

/// One hover value: a name, a unit, decimals.
#[derive(Clone, Debug)]
struct TipField {
    name: String,
    unit: String,
    decimals: usize,
}

/// Hover data of one window: its span, one value per [`TipField`], and the faults
/// active in it, in words (`crash server-0, pause server-1 and 2 more`).
#[derive(Clone, Debug)]
struct TipWindow {
    from_s: f64,
    to_s: f64,
    values: Vec<Option<f64>>,
    faults: String,
}

/// How a [`Mark`] is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MarkShape {
    /// A bar from `from_s` to `to_s`, at least [`MIN_BAR_PX`] wide.
    Bar,
    /// A cross at `from_s`.
    Cross,
}

/// A mark on a lane of the chart (a snapshot from its start to its completion), with
/// its own hover text.
#[derive(Clone, Debug)]
struct Mark {
    from_s: f64,
    to_s: f64,
    /// The lane, in y values.
    y_lo: f64,
    y_hi: f64,
    color: RGBColor,
    shape: MarkShape,
    tip: String,
}

/// Narrowest bar drawn, pixels: a snapshot of a few ms still shows at a 40 s scale.
const MIN_BAR_PX: i32 = 5;
/// Thinnest bar drawn, pixels.
const MIN_LANE_PX: i32 = 3;
/// Thickest bar drawn, pixels: with few lanes a bar stays a bar, not a tick.
const MAX_LANE_PX: i32 = 12;
/// Smallest hover region of a mark, pixels each way.
const MIN_TIP_PX: f64 = 10.0;

/// A chart of values over simulated time.
#[derive(Clone, Debug, Default)]
struct TimeChart {
    title: String,
    y_label: String,
    x_max: f64,
    y_range: (f64, f64),
    log_y: bool,
    series: Vec<Series>,
    hlines: Vec<HLine>,
    faults: Vec<FaultInterval>,
    zoom: Option<Span>,
    tip_fields: Vec<TipField>,
    tips: Vec<TipWindow>,
    /// Marks on lanes, drawn over the series, each with its hover text.
    marks: Vec<Mark>,
    /// Legend entries of the marks, after the series'.
    mark_legend: Vec<(Swatch, String)>,
    /// Y ticks only at whole numbers (ids, counts).
    integer_y: bool,
}

/// Legend entry shapes.
#[derive(Clone, Debug)]
enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Box(RGBColor),
    /// A solid bar (a mark).
    Bar(RGBColor),
    /// A cross (a mark).
    Cross(RGBColor),
    /// Diagonal hatching: where shadings of several fault kinds overlap.
    Hatch,
}

/// Where a panel's plot area landed, in SVG user units, and the time span and (drawn)
/// y range it shows.
#[derive(Clone, Copy, Debug)]
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    from_s: f64,
    to_s: f64,
    y_lo: f64,
    y_hi: f64,
}

/// One panel: a time span and its caption.
struct Panel {
    from_s: f64,
    to_s: f64,
    caption: String,
    whole: bool,
}

/// A shaded run of faults of one kind, merged when closer than a pixel.
struct Band {
    kind: String,
    start: f64,
    end: f64,
    count: usize,
    /// Label of the first fault in the band.
    first: String,
    /// The fault covers the whole run (a clock skew from 0 s): labelled, not shaded,
    /// since shading the whole plot would only tint it.
    background: bool,
}

type DrawResult<T = ()> = Result<T, String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

const TITLE_PX: u32 = 23;
const CAPTION_PX: u32 = 16;
const AXIS_PX: u32 = 17;
const TICK_PX: u32 = 15;
const LABEL_PX: u32 = 14;
const LEGEND_PX: u32 = 16;
const FAULT_ROWS: usize = 3;
/// Above this many shaded stretches in a panel, one summary line replaces the labels.
const MAX_LABELLED_BANDS: usize = 24;
const FAULT_ROW_H: i32 = 17;
/// What the grey bar on the whole-run panel marks.
const ZOOM_BAR_LABEL: &str = "zoomed in the right panel";

/// Tick label: integers without decimals, otherwise up to three trimmed decimals;
/// thousands separated.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        fixed(v.round(), 0)
    } else {
        let s = fixed(*v, 3);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Seconds without trailing zeros: `42`, `42.5`.
fn secs(v: f64) -> String {
    tick(&v)
}

impl TimeChart {
    fn panels(&self) -> Vec<Panel> {
        let x_max = if self.x_max > 0.0 { self.x_max } else { 1.0 };
        let mut out = vec![Panel {
            from_s: 0.0,
            to_s: x_max,
            caption: format!("whole run, 0-{} s", secs(x_max)),
            whole: true,
        }];
        if let Some(z) = self.zoom.filter(|z| z.to_s > z.from_s) {
            out.push(Panel {
                from_s: z.from_s,
                to_s: z.to_s,
                caption: format!(
                    "zoom: {}-{} s, the faults and the recovery",
                    secs(z.from_s),
                    secs(z.to_s)
                ),
                whole: false,
            });
        }
        out
    }

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
        out.extend(self.mark_legend.iter().cloned());
        for h in &self.hlines {
            out.push((Swatch::Dashed(h.color), h.label.clone()));
        }
        let run_s = self.x_max;
        let kinds: std::collections::BTreeSet<&str> = self
            .faults
            .iter()
            .filter(|f| !(f.start_s <= 1e-9 && f.end_s.is_none_or(|e| e >= run_s - 1e-9)))
            .map(|f| f.kind.as_str())
            .collect();
        for k in kinds {
            // A load profile's change is a trigger, not a fault.
            let what = if k == "load" { "change" } else { "fault" };
            out.push((Swatch::Box(fault_color(k)), format!("{k} {what}")));
        }
        if !overlaps(&bands(&self.faults, 0.0, run_s, 0.0, run_s)).is_empty() {
            out.push((Swatch::Hatch, "faults of several kinds overlap".to_string()));
        }
        out
    }

    /// Lays out legend entries in rows; returns (x offset, row) per entry and row count.
    fn legend_layout<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        entries: &[(Swatch, String)],
        width: i32,
        k: i32,
    ) -> DrawResult<(Vec<(i32, i32)>, i32)> {
        let font: TextStyle = (FAMILY, LEGEND_PX * k as u32).into_font().into();
        let mut pos = Vec::new();
        let (mut x, mut row) = (0i32, 0i32);
        for (_, label) in entries {
            let (tw, _) = root.estimate_text_size(label, &font).map_err(err)?;
            let w = (34 + 22) * k + tw as i32;
            if x > 0 && x + w > width {
                x = 0;
                row += 1;
            }
            pos.push((x, row));
            x += w;
        }
        Ok((pos, if entries.is_empty() { 0 } else { row + 1 }))
    }

    /// Draws the chart at `k` device pixels per SVG unit; returns each panel's frame.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        k: u32,
    ) -> DrawResult<Vec<Frame>> {
        ensure_font();
        let ki = k as i32;
        root.fill(&WHITE).map_err(err)?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let title_font = (FAMILY, TITLE_PX * k).into_font().color(&BLACK);
        let (tw, _) = root
            .estimate_text_size(&self.title, &title_font)
            .map_err(err)?;
        root.draw(&Text::new(
            self.title.clone(),
            ((w - tw as i32) / 2, 10 * ki),
            title_font,
        ))
        .map_err(err)?;
        let entries = self.legend_entries();
        let (legend_pos, legend_rows) = Self::legend_layout(root, &entries, w - 120 * ki, ki)?;
        let legend_h = (12 + legend_rows * 24) * ki;
        let top = 40 * ki;
        let (_, rest) = root.split_vertically(top);
        let (panels_area, legend_area) = rest.split_vertically(h - top - legend_h);
        let panels = self.panels();
        let mut frames = Vec::with_capacity(panels.len());
        if panels.len() == 2 {
            let split = (f64::from(w) * WHOLE_SHARE) as i32;
            let (left, right) = panels_area.split_horizontally(split);
            frames.push(self.draw_panel(root, &left, &panels[0], k)?);
            frames.push(self.draw_panel(root, &right, &panels[1], k)?);
        } else {
            frames.push(self.draw_panel(root, &panels_area, &panels[0], k)?);
        }
        // Legend strip.
        let x0 = 88 * ki;
        let font = (FAMILY, LEGEND_PX * k).into_font().color(&BLACK);
        for ((swatch, label), (dx, row)) in entries.iter().zip(legend_pos) {
            let x = x0 + dx;
            let y = (8 + row * 24) * ki;
            let mid = y + 9 * ki;
            match swatch {
                Swatch::Line(c, width) => legend_area
                    .draw(&PathElement::new(
                        vec![(x, mid), (x + 28 * ki, mid)],
                        c.stroke_width((*width + 1) * k),
                    ))
                    .map_err(err)?,
                Swatch::Dashed(c) => {
                    for j in 0..3 {
                        let a = x + j * 11 * ki;
                        legend_area
                            .draw(&PathElement::new(
                                vec![(a, mid), (a + 7 * ki, mid)],
                                c.stroke_width(2 * k),
                            ))
                            .map_err(err)?;
                    }
                }
                Swatch::Bar(c) => legend_area
                    .draw(&Rectangle::new(
                        [(x, mid - 4 * ki), (x + 28 * ki, mid + 4 * ki)],
                        c.filled(),
                    ))
                    .map_err(err)?,
                Swatch::Cross(c) => {
                    for (dy0, dy1) in [(-6, 6), (6, -6)] {
                        legend_area
                            .draw(&PathElement::new(
                                vec![(x + 8 * ki, mid + dy0 * ki), (x + 20 * ki, mid + dy1 * ki)],
                                c.stroke_width(3 * k),
                            ))
                            .map_err(err)?;
                    }
                }
                Swatch::Hatch => {
                    let r = [(x, y + ki), (x + 28 * ki, y + 17 * ki)];
                    hatch(&legend_area, r, k)?;
                    legend_area
                        .draw(&Rectangle::new(r, HATCH.mix(0.6).stroke_width(k)))
                        .map_err(err)?;
                }
                Swatch::Box(c) => {
                    let r = [(x, y + ki), (x + 28 * ki, y + 17 * ki)];
                    legend_area
                        .draw(&Rectangle::new(r, c.mix(0.25).filled()))
                        .map_err(err)?;
                    legend_area
                        .draw(&Rectangle::new(r, c.mix(0.6).stroke_width(k)))
                        .map_err(err)?;
                }
            }
            legend_area
                .draw(&Text::new(
                    label.clone(),
                    (x + 34 * ki, y + ki),
                    font.clone(),
                ))
                .map_err(err)?;
        }
        Ok(frames)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        k: u32,
    ) -> DrawResult<Frame> {
        let ki = k as i32;
        let caption_font = (FAMILY, CAPTION_PX * k).into_font().color(&GREY);
        area.draw(&Text::new(
            panel.caption.clone(),
            (88 * ki, 0),
            caption_font,
        ))
        .map_err(err)?;
        let caption_h = 22 * ki;
        let labels_h = if self.faults.is_empty() {
            0
        } else {
            (FAULT_ROWS as i32 * FAULT_ROW_H + 4) * ki
        };
        let (_, chart_area) = area.split_vertically(caption_h + labels_h);
        let mut builder = ChartBuilder::on(&chart_area);
        builder
            .margin_left(10 * k)
            .margin_right(30 * k)
            .margin_top(4 * k)
            .margin_bottom(4 * k)
            .x_label_area_size(48 * k)
            .y_label_area_size(78 * k);
        let (y_lo, y_hi) = (self.ty(self.y_range.0), self.ty(self.y_range.1));
        let mut chart = builder
            .build_cartesian_2d(panel.from_s..panel.to_s, y_lo..y_hi)
            .map_err(err)?;
        self.fill(&mut chart, root, panel, k)
    }

    /// A value on the drawn y axis: its log10 on a log axis, itself otherwise. A log axis
    /// is drawn as a linear axis of log10 values with our own grid, since plotters' log
    /// axis repeats its decade labels.
    fn ty(&self, v: f64) -> f64 {
        if self.log_y {
            v.log10()
        } else {
            v
        }
    }

    /// Log-paper grid and labels: a line at every 1..9 times a power of ten, a label at
    /// 1, 2 and 5 times.
    fn log_grid<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        root: &DrawingArea<DB, Shift>,
        x0: f64,
        x1: f64,
        k: u32,
    ) -> DrawResult {
        let (lo, hi) = (self.ty(self.y_range.0), self.ty(self.y_range.1));
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
            return Ok(());
        }
        let font: TextStyle = (FAMILY, TICK_PX * k).into_font().color(&BLACK);
        // At most 40 decades: far more than any latency spans.
        let first = lo.floor() as i32;
        let last = (hi.ceil() as i32).min(first + 40);
        for decade in first..=last {
            for m in 1..=9 {
                let y = f64::from(decade) + f64::from(m).log10();
                if y < lo || y > hi {
                    continue;
                }
                let style = BLACK.mix(if m == 1 { 0.14 } else { 0.05 }).stroke_width(k);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x0, y), (x1, y)],
                        style,
                    )))
                    .map_err(err)?;
                if matches!(m, 1 | 2 | 5) {
                    let text = tick(&(f64::from(m) * 10f64.powi(decade)));
                    let (px, py) = chart.backend_coord(&(x0, y));
                    let (tw, th) = root.estimate_text_size(&text, &font).map_err(err)?;
                    let at = (px - tw as i32 - 10 * k as i32, py - th as i32 / 2);
                    root.draw(&Text::new(text, at, font.clone())).map_err(err)?;
                    root.draw(&PathElement::new(
                        vec![(px - 5 * k as i32, py), (px, py)],
                        BLACK.mix(0.6).stroke_width(k),
                    ))
                    .map_err(err)?;
                }
            }
        }
        Ok(())
    }

    fn fill<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        root: &DrawingArea<DB, Shift>,
        panel: &Panel,
        k: u32,
    ) -> DrawResult<Frame> {
        let (y_lo, y_hi) = (self.ty(self.y_range.0), self.ty(self.y_range.1));
        let (x0, x1) = (panel.from_s, panel.to_s);
        let mut mesh = chart.configure_mesh();
        let y_tick = |v: &f64| {
            if self.integer_y && (v - v.round()).abs() > 1e-9 {
                String::new()
            } else {
                tick(v)
            }
        };
        mesh.x_desc("time (s)")
            .y_desc(self.y_label.as_str())
            .axis_desc_style((FAMILY, AXIS_PX * k))
            .label_style((FAMILY, TICK_PX * k))
            .x_label_formatter(&tick)
            .y_label_formatter(&y_tick)
            .x_labels(if panel.whole && self.zoom.is_none() {
                12
            } else {
                8
            })
            .set_all_tick_mark_size(5 * k)
            .axis_style(BLACK.mix(0.6).stroke_width(k))
            .bold_line_style(BLACK.mix(0.12).stroke_width(k))
            .light_line_style(BLACK.mix(0.04).stroke_width(k));
        if self.log_y {
            mesh.y_labels(0);
        } else {
            mesh.y_labels(8);
        }
        mesh.draw().map_err(err)?;
        if self.log_y {
            self.log_grid(chart, root, x0, x1, k)?;
        }
        let (left, top) = chart.backend_coord(&(x0, y_hi));
        let (right, bottom) = chart.backend_coord(&(x1, y_lo));
        let plot_px = f64::from((right - left).max(1)) / f64::from(k);
        let per_px = (x1 - x0) / plot_px;
        let bands = bands(&self.faults, x0, x1, per_px, self.x_max);
        // Fault shading first, under the lines.
        for b in bands.iter().filter(|b| !b.background) {
            let c = fault_color(&b.kind);
            let alpha = if b.kind == "clock" { 0.1 } else { 0.18 };
            let end = b.end.max(b.start + per_px).min(x1);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(b.start, y_lo), (end, y_hi)],
                    c.mix(alpha).filled(),
                )))
                .map_err(err)?;
        }
        // Where shadings of several kinds overlap, their tints blend into a colour no
        // legend entry has: a hatched strip along the top of the plot marks the overlap,
        // with a legend entry of its own. (A strip, not the whole height: hatching a
        // long run's many overlaps whole doubled the size of its SVGs.)
        let drawn: Vec<Band> = bands
            .iter()
            .filter(|b| !b.background)
            .map(|b| Band {
                kind: b.kind.clone(),
                start: b.start,
                end: b.end.max(b.start + per_px).min(x1),
                count: b.count,
                first: String::new(),
                background: false,
            })
            .collect();
        // Overlaps closer than a few pixels are hatched as one, which bounds the lines
        // drawn by the plot's width, however many faults there are.
        let mut spans: Vec<(f64, f64)> = Vec::new();
        for (a, b) in overlaps(&drawn) {
            match spans.last_mut() {
                Some(last) if a <= last.1 + 3.0 * per_px => last.1 = last.1.max(b),
                _ => spans.push((a, b)),
            }
        }
        for (a, b) in spans {
            let (pa, _) = chart.backend_coord(&(a, y_hi));
            let (pb, _) = chart.backend_coord(&(b, y_lo));
            let ki = k as i32;
            hatch(
                root,
                [(pa, top + 6 * ki), (pb.max(pa + ki), top + 18 * ki)],
                k,
            )?;
        }
        // On the whole-run panel, a grey bar along the top marks the zoomed span, and
        // says so beside it (after its end, or before its start where the plot ends).
        if let (true, Some(z)) = (panel.whole, self.zoom) {
            let (za, _) = chart.backend_coord(&(z.from_s, y_hi));
            let (zb, _) = chart.backend_coord(&(z.to_s, y_hi));
            let ki = k as i32;
            root.draw(&Rectangle::new(
                [(za, top), (zb, top + 5 * ki)],
                GREY.mix(0.45).filled(),
            ))
            .map_err(err)?;
            let font = (FAMILY, (LABEL_PX - 2) * k).into_font().color(&GREY);
            let (tw, _) = root
                .estimate_text_size(ZOOM_BAR_LABEL, &font)
                .map_err(err)?;
            let x = if zb + 4 * ki + tw as i32 <= right {
                zb + 4 * ki
            } else {
                (za - 4 * ki - tw as i32).max(left)
            };
            root.draw(&Text::new(ZOOM_BAR_LABEL, (x, top - ki), font))
                .map_err(err)?;
        }
        for hl in &self.hlines {
            let y = self.ty(hl.y);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, y), (x1, y)],
                    8 * k,
                    5 * k,
                    hl.color.stroke_width(2 * k),
                ))
                .map_err(err)?;
        }
        let buckets = (plot_px / 2.0).max(1.0) as usize;
        let order = self
            .series
            .iter()
            .filter(|s| s.under)
            .chain(self.series.iter().filter(|s| !s.under));
        for s in order {
            let pts = decimate(&clip(&s.points, x0, x1), x0, x1, buckets);
            for seg in segments(&pts, self.log_y, self.y_range.0) {
                let seg: Vec<(f64, f64)> = seg.into_iter().map(|(x, y)| (x, self.ty(y))).collect();
                if seg.len() == 1 {
                    chart
                        .draw_series(std::iter::once(Circle::new(
                            seg[0],
                            3 * k,
                            s.color.filled(),
                        )))
                        .map_err(err)?;
                } else if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(
                            seg,
                            8 * k,
                            5 * k,
                            s.color.stroke_width(s.width * k),
                        ))
                        .map_err(err)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(seg, s.color.stroke_width(s.width * k)))
                        .map_err(err)?;
                }
            }
        }
        self.draw_marks(chart, root, x0, x1, k)?;
        self.label_faults(chart, root, &bands, x0, x1, y_hi, k)?;
        let kf = f64::from(k);
        Ok(Frame {
            left: f64::from(left) / kf,
            right: f64::from(right) / kf,
            top: f64::from(top) / kf,
            bottom: f64::from(bottom) / kf,
            from_s: x0,
            to_s: x1,
            y_lo,
            y_hi,
        })
    }

    /// Draws the marks that fall in [x0, x1], in device pixels so a short bar keeps a
    /// visible width.
    fn draw_marks<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        root: &DrawingArea<DB, Shift>,
        x0: f64,
        x1: f64,
        k: u32,
    ) -> DrawResult {
        let ki = k as i32;
        for m in self.marks.iter().filter(|m| m.to_s >= x0 && m.from_s <= x1) {
            let (pa, top) = chart.backend_coord(&(m.from_s.max(x0), self.ty(m.y_hi)));
            let (pb, bottom) = chart.backend_coord(&(m.to_s.min(x1), self.ty(m.y_lo)));
            let mid = (top + bottom) / 2;
            match m.shape {
                MarkShape::Bar => {
                    let half =
                        ((bottom - top) / 2).clamp(MIN_LANE_PX * ki / 2, MAX_LANE_PX * ki / 2);
                    // A short bar grows to the right, or to the left at the plot's edge.
                    let (edge, _) = chart.backend_coord(&(x1, self.ty(m.y_lo)));
                    let right = pb.max(pa + MIN_BAR_PX * ki);
                    let (left, right) = if right > edge {
                        (pa.min(edge - MIN_BAR_PX * ki), edge)
                    } else {
                        (pa, right)
                    };
                    root.draw(&Rectangle::new(
                        [(left, mid - half), (right, mid + half)],
                        m.color.filled(),
                    ))
                    .map_err(err)?;
                }
                MarkShape::Cross => {
                    let arm = (((bottom - top) / 2).max(3 * ki)).min(6 * ki);
                    for (dy0, dy1) in [(-arm, arm), (arm, -arm)] {
                        root.draw(&PathElement::new(
                            vec![(pa - arm, mid + dy0), (pa + arm, mid + dy1)],
                            m.color.stroke_width(2 * k),
                        ))
                        .map_err(err)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Labels fault bands above the plot area, in up to [`FAULT_ROWS`] rows; a label
    /// that fits in no row is shortened to the kind, then left out (the fault table in the
    /// report lists every fault).
    #[allow(clippy::too_many_arguments)]
    fn label_faults<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        root: &DrawingArea<DB, Shift>,
        bands: &[Band],
        x0: f64,
        x1: f64,
        y_hi: f64,
        k: u32,
    ) -> DrawResult {
        let ki = k as i32;
        let (right, top_y) = chart.backend_coord(&(x1, y_hi));
        let (left, _) = chart.backend_coord(&(x0, y_hi));
        let base = top_y - (FAULT_ROWS as i32 * FAULT_ROW_H + 4) * ki;
        let shaded = bands.iter().filter(|b| !b.background).count();
        if shaded > MAX_LABELLED_BANDS {
            // Labels of this many bands would only overlap: one line says what is shaded.
            let faults: usize = bands
                .iter()
                .filter(|b| !b.background)
                .map(|b| b.count)
                .sum();
            let font = (FAMILY, LABEL_PX * k).into_font().color(&GREY);
            let text = format!(
                "{} faults in {} shaded stretches (colour by kind); the fault table lists them",
                count(faults as u64),
                count(shaded as u64)
            );
            root.draw(&Text::new(text, (left, base), font))
                .map_err(err)?;
            return Ok(());
        }
        let mut row_end = [i32::MIN; FAULT_ROWS];
        let mut order: Vec<&Band> = bands.iter().collect();
        order.sort_by(|a, b| a.start.total_cmp(&b.start));
        for b in order {
            let (x, _) = chart.backend_coord(&(b.start.clamp(x0, x1), y_hi));
            let color = darker(fault_color(&b.kind));
            let font: TextStyle = (FAMILY, LABEL_PX * k).into_font().color(&color);
            let full = if b.count == 1 {
                b.first.clone()
            } else {
                format!("{} × {}", b.kind, count(b.count as u64))
            };
            for text in [full, b.kind.clone()] {
                let (tw, _) = root.estimate_text_size(&text, &font).map_err(err)?;
                let tw = tw as i32;
                let lx = x.min(right - tw).max(left);
                if let Some(row) = (0..FAULT_ROWS).find(|r| lx >= row_end[*r] + 14 * ki) {
                    row_end[row] = lx + tw;
                    let y = base + row as i32 * FAULT_ROW_H * ki;
                    root.draw(&Text::new(text, (lx, y), font.clone()))
                        .map_err(err)?;
                    // Tick from the label down to the plot area at the fault start.
                    root.draw(&PathElement::new(
                        vec![(x, y + (FAULT_ROW_H - 3) * ki), (x, top_y)],
                        color.mix(0.5).stroke_width(k),
                    ))
                    .map_err(err)?;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Fault intervals in [x0, x1] merged per kind when less than `gap` apart; faults that
/// cover the whole run (`0..run_s`) come first, one band each.
fn bands(faults: &[FaultInterval], x0: f64, x1: f64, gap: f64, run_s: f64) -> Vec<Band> {
    let mut out = Vec::new();
    let mut by_kind: BTreeMap<&str, Vec<(f64, f64, usize)>> = BTreeMap::new();
    for (i, f) in faults.iter().enumerate() {
        let whole = f.start_s <= 1e-9 && f.end_s.is_none_or(|e| e >= run_s - 1e-9);
        if whole {
            out.push(Band {
                kind: f.kind.clone(),
                start: x0,
                end: x1,
                count: 1,
                first: format!("{} (whole run)", stats::fault_label(f)),
                background: true,
            });
            continue;
        }
        let a = f.start_s.max(x0);
        let b = f.end_s.unwrap_or(f64::INFINITY).min(x1);
        if a.is_finite() && b >= a && a <= x1 {
            by_kind.entry(f.kind.as_str()).or_default().push((a, b, i));
        }
    }
    for (kind, mut iv) in by_kind {
        iv.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.2.cmp(&q.2)));
        let mut cur: Option<Band> = None;
        for (a, b, i) in iv {
            match cur.as_mut() {
                Some(c) if a <= c.end + gap => {
                    c.end = c.end.max(b);
                    c.count += 1;
                }
                _ => {
                    out.extend(cur.take());
                    cur = Some(Band {
                        kind: kind.to_string(),
                        start: a,
                        end: b,
                        count: 1,
                        first: stats::fault_label(&faults[i]),
                        background: false,
                    });
                }
            }
        }
        out.extend(cur);
    }
    out
}

/// Spans where shaded bands of two or more fault kinds overlap, in order: a sweep over
/// the bands' edges (ends before starts at one instant, so touching bands do not overlap).
fn overlaps(bands: &[Band]) -> Vec<(f64, f64)> {
    let mut edges: Vec<(f64, bool, &str)> = Vec::with_capacity(bands.len() * 2);
    for b in bands.iter().filter(|b| !b.background && b.end > b.start) {
        edges.push((b.start, true, b.kind.as_str()));
        edges.push((b.end, false, b.kind.as_str()));
    }
    edges.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
    let mut active: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut since: Option<f64> = None;
    for (x, start, kind) in edges {
        if start {
            *active.entry(kind).or_default() += 1;
        } else if let Some(n) = active.get_mut(kind) {
            *n -= 1;
            if *n == 0 {
                active.remove(kind);
            }
        }
        match (active.len() >= 2, since) {
            (true, None) => since = Some(x),
            (false, Some(a)) => {
                if x > a {
                    out.push((a, x));
                }
                since = None;
            }
            _ => {}
        }
    }
    debug_assert!(active.is_empty() && since.is_none(), "every band ends");
    out
}

/// Colour of the hatching over overlapping fault shadings.
const HATCH: RGBColor = RGBColor(60, 60, 60);

/// Diagonal lines across the rectangle `r` (device pixels), 7 pixels apart at scale 1.
fn hatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: [(i32, i32); 2],
    k: u32,
) -> DrawResult {
    let [(x0, y0), (x1, y1)] = r;
    let (x0, x1) = (x0.min(x1), x0.max(x1));
    let (y0, y1) = (y0.min(y1), y0.max(y1));
    let step = 7 * k as i32;
    // Lines x = y + c, for c from the bottom-left corner to the top-right one.
    let mut c = x0 - y1;
    while c <= x1 - y0 {
        let lo = y0.max(x0 - c);
        let hi = y1.min(x1 - c);
        if lo < hi {
            area.draw(&PathElement::new(
                vec![(lo + c, lo), (hi + c, hi)],
                HATCH.mix(0.45).stroke_width(k),
            ))
            .map_err(err)?;
        }
        c += step;
    }
    Ok(())
}

/// Points within [x0, x1], with the line cut at the edges (interpolated), so a panel
/// draws nothing outside its plot area.
fn clip(points: &[(f64, Option<f64>)], x0: f64, x1: f64) -> Vec<(f64, Option<f64>)> {
    let lo = points.partition_point(|p| p.0 < x0);
    let hi = points.partition_point(|p| p.0 <= x1);
    let mut out = Vec::with_capacity(hi.saturating_sub(lo) + 2);
    let lerp = |a: (f64, Option<f64>), b: (f64, Option<f64>), x: f64| match (a.1, b.1) {
        (Some(ya), Some(yb)) if b.0 > a.0 => Some(ya + (yb - ya) * (x - a.0) / (b.0 - a.0)),
        _ => None,
    };
    if lo > 0 && lo < points.len() {
        out.push((x0, lerp(points[lo - 1], points[lo], x0)));
    }
    out.extend_from_slice(&points[lo..hi.max(lo)]);
    if hi > 0 && hi < points.len() {
        out.push((x1, lerp(points[hi - 1], points[hi], x1)));
    }
    out
}

/// At most two points (the minimum and the maximum, in time order) per bucket when there
/// are more than two per bucket, so spikes and dips stay visible.
fn decimate(
    points: &[(f64, Option<f64>)],
    x0: f64,
    x1: f64,
    buckets: usize,
) -> Vec<(f64, Option<f64>)> {
    if points.len() <= 2 * buckets || x1 <= x0 {
        return points.to_vec();
    }
    let width = (x1 - x0) / buckets as f64;
    let mut out = Vec::with_capacity(2 * buckets + 2);
    let mut i = 0;
    while i < points.len() {
        let b = ((points[i].0 - x0) / width).floor().max(0.0);
        let mut j = i;
        let mut lo: Option<(f64, f64)> = None;
        let mut hi: Option<(f64, f64)> = None;
        let mut all_gap = true;
        while j < points.len() && ((points[j].0 - x0) / width).floor().max(0.0) == b {
            if let Some(y) = points[j].1.filter(|y| y.is_finite()) {
                all_gap = false;
                if lo.is_none_or(|l| y < l.1) {
                    lo = Some((points[j].0, y));
                }
                if hi.is_none_or(|h| y > h.1) {
                    hi = Some((points[j].0, y));
                }
            }
            j += 1;
        }
        match (lo, hi) {
            _ if all_gap => out.push((points[i].0, None)),
            (Some(l), Some(h)) if l.0 <= h.0 => {
                out.push((l.0, Some(l.1)));
                if h.0 > l.0 {
                    out.push((h.0, Some(h.1)));
                }
            }
            (Some(l), Some(h)) => {
                out.push((h.0, Some(h.1)));
                out.push((l.0, Some(l.1)));
            }
            _ => {}
        }
        i = j;
    }
    out
}

/// Splits points at gaps (and, on a log axis, at values below the axis).
fn segments(points: &[(f64, Option<f64>)], log_y: bool, y_lo: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(x, y) in points {
        match y {
            Some(v) if v.is_finite() && (!log_y || (v > 0.0 && v >= y_lo)) => cur.push((x, v)),
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

/// `crash:server-0;partition:a | b` as `crash server-0, partition a | b`, at most three
/// entries and a count of the rest.
fn faults_phrase(active: &str) -> String {
    const SHOWN: usize = 3;
    let mut shown = Vec::new();
    let mut more = 0usize;
    for entry in active.split(';').filter(|e| !e.is_empty()) {
        if shown.len() < SHOWN {
            shown.push(entry.replacen(':', " ", 1));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        format!("{} and {} more", shown.join(", "), count(more as u64))
    } else {
        shown.join(", ")
    }
}

/// The text of one hover region over windows `tips` (one window or a bucket).
fn tip_text(fields: &[TipField], tips: &[TipWindow]) -> String {
    let (Some(first), Some(last)) = (tips.first(), tips.last()) else {
        return String::new();
    };
    let mut out = if tips.len() == 1 {
        format!("{}-{} s", secs(first.from_s), secs(last.to_s))
    } else {
        format!(
            "{}-{} s ({} windows)",
            secs(first.from_s),
            secs(last.to_s),
            count(tips.len() as u64)
        )
    };
    for (i, f) in fields.iter().enumerate() {
        let vals: Vec<f64> = tips
            .iter()
            .filter_map(|t| t.values.get(i).copied().flatten())
            .filter(|v| v.is_finite())
            .collect();
        let unit = if f.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", f.unit)
        };
        let text = match vals.as_slice() {
            [] => "none".to_string(),
            [v] => format!("{}{unit}", fixed(*v, f.decimals)),
            _ => {
                let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if tips.len() == 1 || lo == hi {
                    format!("{}{unit}", fixed(lo, f.decimals))
                } else {
                    format!(
                        "{} to {}{unit}",
                        fixed(lo, f.decimals),
                        fixed(hi, f.decimals)
                    )
                }
            }
        };
        out.push_str(&format!("\n{}: {text}", f.name));
    }
    let faults = tips
        .iter()
        .find(|t| !t.faults.is_empty())
        .map(|t| t.faults.clone());
    out.push_str(&format!(
        "\nfaults: {}",
        faults.unwrap_or_else(|| "none".to_string())
    ));
    out
}

/// The hover layer of an SVG: a transparent region with a `<title>` per window (or
/// bucket of windows) in each panel, plus the style that shades it on hover.
fn tip_layer(chart: &TimeChart, frames: &[Frame]) -> String {
    let mut regions: Vec<(f64, f64, f64, f64, String)> = Vec::new();
    for fr in frames {
        let lo = chart.tips.partition_point(|t| t.to_s <= fr.from_s);
        let hi = chart.tips.partition_point(|t| t.from_s < fr.to_s);
        let tips = &chart.tips[lo..hi.max(lo)];
        if tips.is_empty() || fr.to_s <= fr.from_s {
            continue;
        }
        let per = tips.len().div_ceil(MAX_TIPS);
        let scale = (fr.right - fr.left) / (fr.to_s - fr.from_s);
        for group in tips.chunks(per) {
            let (Some(a), Some(b)) = (group.first(), group.last()) else {
                continue;
            };
            let x0 = fr.left + (a.from_s.max(fr.from_s) - fr.from_s) * scale;
            let x1 = fr.left + (b.to_s.min(fr.to_s) - fr.from_s) * scale;
            if x1 <= x0 {
                continue;
            }
            regions.push((
                x0,
                fr.top,
                x1 - x0,
                fr.bottom - fr.top,
                tip_text(&chart.tip_fields, group),
            ));
        }
    }
    // Marks after the windows, so a mark's region is on top where they overlap.
    for fr in frames {
        let (span_s, span_y) = (fr.to_s - fr.from_s, fr.y_hi - fr.y_lo);
        if span_s <= 0.0 || span_y <= 0.0 {
            continue;
        }
        let px = |t: f64| {
            fr.left + (t.clamp(fr.from_s, fr.to_s) - fr.from_s) / span_s * (fr.right - fr.left)
        };
        let py = |y: f64| {
            fr.top + (fr.y_hi - chart.ty(y).clamp(fr.y_lo, fr.y_hi)) / span_y * (fr.bottom - fr.top)
        };
        for m in chart
            .marks
            .iter()
            .filter(|m| m.to_s >= fr.from_s && m.from_s <= fr.to_s)
        {
            let (mut x0, mut x1) = (px(m.from_s), px(m.to_s));
            let (mut y0, mut y1) = (py(m.y_hi), py(m.y_lo));
            if x1 - x0 < MIN_TIP_PX {
                let c = if m.shape == MarkShape::Cross {
                    x0
                } else {
                    (x0 + x1) / 2.0
                };
                x0 = c - MIN_TIP_PX / 2.0;
                x1 = c + MIN_TIP_PX / 2.0;
            }
            if y1 - y0 < MIN_TIP_PX {
                let c = (y0 + y1) / 2.0;
                y0 = c - MIN_TIP_PX / 2.0;
                y1 = c + MIN_TIP_PX / 2.0;
            }
            regions.push((x0, y0, x1 - x0, y1 - y0, m.tip.clone()));
        }
    }
    let r2 = |v: f64| format!("{:.2}", v);
    html! {
        style { ".fl-tip{fill:#000;fill-opacity:0}.fl-tip:hover{fill-opacity:.07}" }
        g class="fl-tips" {
            @for (x, y, w, h, text) in &regions {
                rect class="fl-tip" x=(r2(*x)) y=(r2(*y)) width=(r2(*w)) height=(r2(*h)) {
                    title { (text) }
                }
            }
        }
    }
    .into_string()
}

/// Box-filters an RGB image of `(w * k) x (h * k)` pixels down to `w x h`.
fn downsample(big: &[u8], w: u32, h: u32, k: u32) -> Vec<u8> {
    let (w, h, k) = (w as usize, h as usize, k as usize);
    let big_w = w * k;
    let mut out = vec![0u8; w * h * 3];
    let n = (k * k) as u32;
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0u32; 3];
            for dy in 0..k {
                let row = (y * k + dy) * big_w;
                for dx in 0..k {
                    let p = (row + x * k + dx) * 3;
                    acc[0] += u32::from(big[p]);
                    acc[1] += u32::from(big[p + 1]);
                    acc[2] += u32::from(big[p + 2]);
                }
            }
            let o = (y * w + x) * 3;
            for c in 0..3 {
                // Rounded mean; the sum of k*k bytes over k*k fits in a byte.
                out[o + c] = ((acc[c] + n / 2) / n) as u8;
            }
        }
    }
    out
}

/// The version of the charts' look. Bump it with any change to what a chart shows or
/// how: every PNG carries it (a `tEXt` chunk named [`PNG_FORMAT_KEYWORD`]), and the
/// repository's docs test fails while a picture bundled with the README carries an older
/// one, until that picture is made again with the command its caption gives.
pub const CHART_FORMAT_VERSION: u32 = 2;

/// The keyword of the PNG `tEXt` chunk that holds [`CHART_FORMAT_VERSION`].
pub const PNG_FORMAT_KEYWORD: &str = "faultline-chart-format";

/// The chart format version a PNG was drawn with, if it is a PNG Faultline drew (older
/// builds wrote none).
pub fn png_chart_format(png_bytes: &[u8]) -> Option<u32> {
    let reader = png::Decoder::new(png_bytes).read_info().ok()?;
    reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .find(|chunk| chunk.keyword == PNG_FORMAT_KEYWORD)
        .and_then(|chunk| chunk.text.parse().ok())
}

fn encode_png(path: &Path, rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.add_text_chunk(
            PNG_FORMAT_KEYWORD.to_string(),
            CHART_FORMAT_VERSION.to_string(),
        )
        .map_err(err)?;
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    debug_assert!(!bytes.is_empty(), "{}", path.display());
    Ok(bytes)
}

/// Writes a chart as `<name>.svg` and `<name>.png` in `dir`.
fn render(dir: &Path, name: &str, chart: &TimeChart) -> Result<Plot, ReportError> {
    ensure_font();
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    let plot_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| ReportError::Plot { path, message }
    };
    let mut svg = String::new();
    let frames = {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let frames = chart.draw(&root, 1).map_err(plot_err(&svg_path))?;
        root.present()
            .map_err(|e| plot_err(&svg_path)(e.to_string()))?;
        frames
    };
    let layer = tip_layer(chart, &frames);
    finish_plot(name, svg_path, png_path, svg, &layer, SIZE, |root| {
        chart.draw(root, SUPERSAMPLE).map(|_| ())
    })
}

/// The end of writing a plot, shared by every kind: `layer` (its hover tips) goes
/// before the end of `svg`, which is written to `svg_path`; then `draw` renders the
/// PNG at `SUPERSAMPLE` times `size` and it is averaged down into `png_path`.
pub(crate) fn finish_plot(
    name: &str,
    svg_path: PathBuf,
    png_path: PathBuf,
    mut svg: String,
    layer: &str,
    size: (u32, u32),
    draw: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult,
) -> Result<Plot, ReportError> {
    let plot_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| ReportError::Plot { path, message }
    };
    match svg.rfind("</svg>") {
        Some(i) => svg.insert_str(i, &format!("{layer}\n")),
        None => {
            return Err(plot_err(&svg_path)(
                "the SVG backend wrote no </svg>".to_string(),
            ));
        }
    }
    crate::io::write_file(&svg_path, svg.as_bytes())?;
    let big_size = (size.0 * SUPERSAMPLE, size.1 * SUPERSAMPLE);
    let mut big = vec![0u8; big_size.0 as usize * big_size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut big, big_size).into_drawing_area();
        draw(&root).map_err(plot_err(&png_path))?;
        root.present()
            .map_err(|e| plot_err(&png_path)(e.to_string()))?;
    }
    let small = downsample(&big, size.0, size.1, SUPERSAMPLE);
    let png = encode_png(&png_path, &small, size).map_err(plot_err(&png_path))?;
    crate::io::write_file(&png_path, &png)?;
    Ok(Plot {
        name: name.to_string(),
        svg_path,
        png_path,
        svg,
    })
}

/// Faults a hover text names before it counts the rest.
const NAMED_FAULTS: usize = 3;

/// For each span `(from_s, to_s)` (sorted by `from_s`), the faults active in it, in
/// words: `crash acct-3, partition a | b and 2 more`. A fault is active in a span when
/// it starts before the span ends and ends after it starts (a span of length 0 is an
/// instant: faults started at or before it and not yet ended).
///
/// One sweep over the faults sorted by start: O((spans + faults) log faults), plus
/// [`NAMED_FAULTS`] names per span.
pub(crate) fn active_faults(faults: &[FaultInterval], spans: &[(f64, f64)]) -> Vec<String> {
    debug_assert!(spans.windows(2).all(|p| p[0].0 <= p[1].0), "spans sorted");
    let mut order: Vec<usize> = (0..faults.len())
        .filter(|&i| faults[i].start_s.is_finite())
        .collect();
    order.sort_by(|&a, &b| faults[a].start_s.total_cmp(&faults[b].start_s));
    let end_of = |i: usize| faults[i].end_s.unwrap_or(f64::INFINITY).max(0.0);
    let mut next = 0;
    let mut active: BTreeSet<usize> = BTreeSet::new();
    // (end as ordered bits, index): non-negative floats order as their bits do.
    let mut by_end: BTreeSet<(u64, usize)> = BTreeSet::new();
    let mut out = Vec::with_capacity(spans.len());
    for &(a, b) in spans {
        let until = b.max(a + 1e-9);
        while next < order.len() && faults[order[next]].start_s < until {
            let i = order[next];
            active.insert(i);
            by_end.insert((end_of(i).to_bits(), i));
            next += 1;
        }
        while let Some(&(end_bits, i)) = by_end.first() {
            if f64::from_bits(end_bits) > a {
                break;
            }
            by_end.pop_first();
            active.remove(&i);
        }
        let names: Vec<String> = active
            .iter()
            .take(NAMED_FAULTS)
            .map(|&i| stats::fault_label(&faults[i]))
            .collect();
        let more = active.len().saturating_sub(NAMED_FAULTS);
        out.push(if more > 0 {
            format!("{} and {} more", names.join(", "), count(more as u64))
        } else {
            names.join(", ")
        });
    }
    out
}

/// A value per window as a step: held from the window's start to its end, so a drop
/// lines up with the fault that caused it.
fn per_window(rec: &RunRecord, f: impl Fn(&TimelineRow) -> Option<f64>) -> Vec<(f64, Option<f64>)> {
    steps(&rec.timeline, stats::window_s(rec), |r| r.t_s, f)
}

/// `rows` (windows of `window_s` starting at `start_s`) as a step series: each value held
/// from its window's start to its end.
fn steps<R>(
    rows: &[R],
    window_s: f64,
    start_s: impl Fn(&R) -> f64,
    value: impl Fn(&R) -> Option<f64>,
) -> Vec<(f64, Option<f64>)> {
    let mut out = Vec::with_capacity(2 * rows.len());
    for row in rows {
        let (t_s, v) = (start_s(row), value(row));
        out.push((t_s, v));
        out.push((t_s + window_s, v));
    }
    out
}

/// Hover data of each window of a run.
fn tips_of(rec: &RunRecord, f: impl Fn(&TimelineRow) -> Vec<Option<f64>>) -> Vec<TipWindow> {
    let w = stats::window_s(rec);
    rec.timeline
        .iter()
        .map(|r| TipWindow {
            from_s: r.t_s,
            to_s: r.t_s + w,
            values: f(r),
            faults: faults_phrase(&r.faults_active),
        })
        .collect()
}

fn field(name: &str, unit: &str, decimals: usize) -> TipField {
    TipField {
        name: name.to_string(),
        unit: unit.to_string(),
        decimals,
    }
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

/// The availability axis: from 0 when anything fell low, else from the highest of 98,
/// 95, 90, 80, 50 that leaves a margin under the lowest value and the SLO, so a dip to
/// 99.2 % against a 99.9 % SLO is visible; always up to a little above 100 %.
fn availability_axis(series: &[Series], slo_pct: f64) -> (f64, f64) {
    let lowest = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(slo_pct, f64::min);
    let margin = 0.2 * (100.0 - lowest).max(0.5);
    let lo = [98.0, 95.0, 90.0, 80.0, 50.0]
        .into_iter()
        .find(|c| *c <= lowest - margin)
        .unwrap_or(0.0);
    (lo, 100.0 + 0.05 * (100.0 - lo))
}

fn count_f(n: u64) -> Option<f64> {
    Some(n as f64)
}

fn pct(x: Option<f64>) -> Option<f64> {
    x.map(|v| v * 100.0)
}

/// Availability by offered time per window over time (and the latency-bounded ratio when
/// a latency objective is set), fault intervals shaded, SLO as a dashed line.
pub fn availability(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let latency = stats::slo_latency_ms(rec);
    let mut series = vec![Series {
        label: format!("availability by offered time ({})", window_phrase(rec)),
        color: palette(0),
        points: per_window(rec, |r| pct(r.success_ratio())),
        dashed: false,
        width: 2,
        under: false,
    }];
    let mut fields = vec![field("availability", "%", 2)];
    if let Some(ms) = latency {
        series.push(Series {
            label: format!("succeeded within {} ms", tick(&ms)),
            color: palette(1),
            points: per_window(rec, |r| pct(r.good_ratio())),
            dashed: false,
            width: 2,
            under: true,
        });
        fields.push(field(&format!("within {} ms", tick(&ms)), "%", 2));
    }
    fields.extend([
        field("offered", "req", 0),
        field("succeeded", "req", 0),
        field("unresolved at end", "req", 0),
    ]);
    let y_range = availability_axis(&series, stats::slo(rec) * 100.0);
    let chart = TimeChart {
        title: format!(
            "Availability: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        y_label: "availability (%)".to_string(),
        x_max: stats::duration_s(rec),
        y_range,
        log_y: false,
        series,
        hlines: vec![slo_line(rec)],
        faults: rec.summary.faults.clone(),
        zoom,
        tip_fields: fields,
        tips: tips_of(rec, |r| {
            let mut v = vec![pct(r.success_ratio())];
            if latency.is_some() {
                v.push(pct(r.good_ratio()));
            }
            v.extend([
                count_f(r.offered),
                count_f(r.succeeded),
                count_f(r.unresolved),
            ]);
            v
        }),
        ..TimeChart::default()
    };
    render(dir, "availability", &chart)
}

/// Server arrivals per second over time (all attempts, retries included), with the
/// offered load (new logical requests per second) and the goodput (successes completed
/// per second).
pub fn herd(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let w = stats::window_s(rec);
    let series = vec![
        Series {
            label: "server arrivals (all attempts)".to_string(),
            color: palette(0),
            points: per_window(rec, |r| Some(r.server_arrivals as f64 / w)),
            dashed: false,
            width: 2,
            under: false,
        },
        Series {
            label: "offered load (new requests)".to_string(),
            color: GREY,
            points: per_window(rec, |r| Some(r.offered as f64 / w)),
            dashed: true,
            width: 2,
            under: false,
        },
        Series {
            label: "goodput (successes completed)".to_string(),
            color: palette(2),
            points: per_window(rec, |r| Some(r.completed as f64 / w)),
            dashed: false,
            width: 2,
            under: false,
        },
    ];
    let top = max_of(&series);
    let chart = TimeChart {
        title: format!(
            "Thundering herd: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        y_label: "requests per second (req/s)".to_string(),
        x_max: stats::duration_s(rec),
        y_range: (0.0, if top > 0.0 { top * 1.08 } else { 1.0 }),
        log_y: false,
        series,
        hlines: Vec::new(),
        faults: rec.summary.faults.clone(),
        zoom,
        tip_fields: vec![
            field("server arrivals", "req/s", 1),
            field("offered", "req/s", 1),
            field("goodput", "req/s", 1),
            field("attempts sent", "req/s", 1),
        ],
        tips: tips_of(rec, |r| {
            vec![
                Some(r.server_arrivals as f64 / w),
                Some(r.offered as f64 / w),
                Some(r.completed as f64 / w),
                Some(r.attempts as f64 / w),
            ]
        }),
        ..TimeChart::default()
    };
    render(dir, "herd", &chart)
}

/// A y range for latency values: a log axis when they span more than a factor of 30.
fn latency_axis(series: &[Series]) -> ((f64, f64), bool, String) {
    let positive: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    if !positive.is_empty() && hi / lo > 30.0 {
        (
            (lo / 1.5, hi * 1.5),
            true,
            "latency (ms, log scale)".to_string(),
        )
    } else {
        (
            (0.0, if hi > 0.0 { hi * 1.1 } else { 1.0 }),
            false,
            "latency (ms)".to_string(),
        )
    }
}

/// Whether a run has any latency sample to draw.
pub fn has_latency(rec: &RunRecord) -> bool {
    rec.timeline.iter().any(|r| r.latency_p50_ms.is_finite())
}

/// p50, p99 and p99.9 latency of the successes resolved in each window, milliseconds.
pub fn latency(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let nan_none = |v: f64| Some(v).filter(|x| x.is_finite());
    let series = vec![
        Series {
            label: "p50".to_string(),
            color: palette(0),
            points: per_window(rec, |r| nan_none(r.latency_p50_ms)),
            dashed: false,
            width: 2,
            under: false,
        },
        Series {
            label: "p99".to_string(),
            color: palette(1),
            points: per_window(rec, |r| nan_none(r.latency_p99_ms)),
            dashed: false,
            width: 2,
            under: false,
        },
        Series {
            label: "p99.9".to_string(),
            color: palette(3),
            points: per_window(rec, |r| nan_none(r.latency_p999_ms)),
            dashed: true,
            width: 1,
            under: false,
        },
    ];
    let (y_range, log_y, y_label) = latency_axis(&series);
    let chart = TimeChart {
        title: format!(
            "Latency of successful requests: {} (seed {})",
            rec.summary.scenario, rec.summary.seed
        ),
        y_label,
        x_max: stats::duration_s(rec),
        y_range,
        log_y,
        series,
        hlines: stats::slo_latency_ms(rec)
            .map(|ms| HLine {
                label: format!("latency objective {} ms", tick(&ms)),
                y: ms,
                color: RGBColor(0x33, 0x33, 0x33),
            })
            .into_iter()
            .collect(),
        faults: rec.summary.faults.clone(),
        zoom,
        tip_fields: vec![
            field("p50", "ms", 2),
            field("p99", "ms", 2),
            field("p99.9", "ms", 2),
            field("successes completed", "req", 0),
        ],
        tips: tips_of(rec, |r| {
            vec![
                nan_none(r.latency_p50_ms),
                nan_none(r.latency_p99_ms),
                nan_none(r.latency_p999_ms),
                count_f(r.completed),
            ]
        }),
        ..TimeChart::default()
    };
    render(dir, "latency", &chart)
}

/// Circuit breakers open at the end of each window.
pub fn breakers(dir: &Path, rec: &RunRecord, zoom: Option<Span>) -> Result<Plot, ReportError> {
    let series = vec![Series {
        label: "breakers open".to_string(),
        color: palette(4),
        points: per_window(rec, |r| Some(r.breakers_open as f64)),
        dashed: false,
        width: 2,
        under: false,
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
        zoom,
        tip_fields: vec![
            field("breakers open", "", 0),
            field("rejected by breaker (offered here)", "req", 0),
        ],
        tips: tips_of(rec, |r| {
            vec![count_f(r.breakers_open), count_f(r.rejected_by_breaker)]
        }),
        ..TimeChart::default()
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

/// The variants' hover data, one value per variant per window of the first variant.
fn overlay_tips(
    variants: &[(String, RunRecord)],
    f: impl Fn(&RunRecord, &TimelineRow) -> Option<f64>,
) -> Vec<TipWindow> {
    let first = &variants[0].1;
    let w = stats::window_s(first);
    first
        .timeline
        .iter()
        .map(|r| TipWindow {
            from_s: r.t_s,
            to_s: r.t_s + w,
            values: variants
                .iter()
                .map(|(_, rec)| {
                    let i = rec.timeline.partition_point(|x| x.t_s < r.t_s - 1e-9);
                    rec.timeline
                        .get(i)
                        .filter(|x| (x.t_s - r.t_s).abs() < 1e-9)
                        .and_then(|x| f(rec, x))
                })
                .collect(),
            faults: faults_phrase(&r.faults_active),
        })
        .collect()
}

fn overlay_chart(
    title: String,
    y_label: &str,
    variants: &[(String, RunRecord)],
    zoom: Option<Span>,
    unit: &str,
    f: impl Fn(&RunRecord, &TimelineRow) -> Option<f64> + Copy,
) -> TimeChart {
    let first = &variants[0].1;
    let series: Vec<Series> = variants
        .iter()
        .enumerate()
        .map(|(i, (label, rec))| Series {
            label: label.clone(),
            color: palette(i),
            points: per_window(rec, |r| f(rec, r)),
            dashed: false,
            width: overlay_width(i, variants.len()),
            under: false,
        })
        .collect();
    let top = max_of(&series);
    TimeChart {
        title,
        y_label: y_label.to_string(),
        x_max: variants
            .iter()
            .map(|(_, r)| stats::duration_s(r))
            .fold(0.0, f64::max),
        y_range: (0.0, if top > 0.0 { top * 1.08 } else { 1.0 }),
        log_y: false,
        series,
        hlines: Vec::new(),
        faults: first.summary.faults.clone(),
        zoom,
        tip_fields: variants
            .iter()
            .map(|(l, _)| field(l, unit, if unit == "%" { 2 } else { 1 }))
            .collect(),
        tips: overlay_tips(variants, f),
        ..TimeChart::default()
    }
}

/// Availability by offered time of several variants overlaid, one colour each; faults
/// and SLO of the first variant.
pub fn availability_comparison(
    dir: &Path,
    title: &str,
    variants: &[(String, RunRecord)],
    zoom: Option<Span>,
) -> Result<Plot, ReportError> {
    check_variants(variants)?;
    let mut chart = overlay_chart(
        format!("Availability: {title}"),
        "availability (%)",
        variants,
        zoom,
        "%",
        |_, r| pct(r.success_ratio()),
    );
    chart.y_range = availability_axis(&chart.series, stats::slo(&variants[0].1) * 100.0);
    chart.hlines = vec![slo_line(&variants[0].1)];
    render(dir, "availability", &chart)
}

/// Server arrivals per second of several variants overlaid, one colour each; the offered
/// load is drawn once when every variant offered the same.
pub fn herd_comparison(
    dir: &Path,
    title: &str,
    variants: &[(String, RunRecord)],
    zoom: Option<Span>,
) -> Result<Plot, ReportError> {
    check_variants(variants)?;
    let first = &variants[0].1;
    let mut chart = overlay_chart(
        format!("Server arrivals: {title}"),
        "server arrivals (req/s)",
        variants,
        zoom,
        "req/s",
        |rec, r| Some(r.server_arrivals as f64 / stats::window_s(rec)),
    );
    let offered_of = |r: &RunRecord| -> Vec<u64> { r.timeline.iter().map(|t| t.offered).collect() };
    if variants
        .iter()
        .all(|(_, r)| offered_of(r) == offered_of(first))
    {
        let w = stats::window_s(first);
        chart.series.push(Series {
            label: "offered load (all variants)".to_string(),
            color: GREY,
            points: per_window(first, |r| Some(r.offered as f64 / w)),
            dashed: true,
            width: 2,
            under: false,
        });
    }
    render(dir, "herd", &chart)
}

/// p99 latency of successful requests of several variants overlaid; a log axis when the
/// values span more than a factor of 30.
pub fn latency_comparison(
    dir: &Path,
    title: &str,
    variants: &[(String, RunRecord)],
    zoom: Option<Span>,
) -> Result<Plot, ReportError> {
    check_variants(variants)?;
    let mut chart = overlay_chart(
        format!("Latency p99 of successful requests: {title}"),
        "p99 latency (ms)",
        variants,
        zoom,
        "ms",
        |_, r| Some(r.latency_p99_ms).filter(|v| v.is_finite()),
    );
    let (y_range, log_y, _) = latency_axis(&chart.series);
    chart.y_range = y_range;
    chart.log_y = log_y;
    chart.y_label = if log_y {
        "p99 latency (ms, log scale)".to_string()
    } else {
        "p99 latency (ms)".to_string()
    };
    render(dir, "latency", &chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_extremes_and_bounds_points() {
        let pts: Vec<(f64, Option<f64>)> = (0..10_000)
            .map(|i| (f64::from(i), Some(if i == 5_003 { 0.0 } else { 100.0 })))
            .collect();
        let out = decimate(&pts, 0.0, 10_000.0, 100);
        assert!(out.len() <= 200, "{}", out.len());
        assert!(out.iter().any(|p| p.1 == Some(0.0)), "the dip survives");
    }

    #[test]
    fn clip_interpolates_at_the_edges() {
        let pts = vec![(0.0, Some(0.0)), (10.0, Some(10.0)), (20.0, Some(20.0))];
        let out = clip(&pts, 5.0, 15.0);
        assert_eq!(
            out,
            vec![(5.0, Some(5.0)), (10.0, Some(10.0)), (15.0, Some(15.0))]
        );
    }

    /// A fault of `kind` from `a` to `b` seconds.
    fn interval(kind: &str, a: f64, b: f64) -> FaultInterval {
        FaultInterval {
            kind: kind.to_string(),
            target: "x".to_string(),
            start_s: a,
            end_s: Some(b),
        }
    }

    #[test]
    fn overlaps_are_where_two_kinds_are_shaded_at_once() {
        let f = interval;
        let faults = vec![
            f("crash", 10.0, 20.0),
            f("partition", 15.0, 25.0),
            // Same kind over the crash: one kind, no overlap of its own.
            f("crash", 12.0, 14.0),
            // Touching, not overlapping.
            f("pause", 25.0, 30.0),
            f("omission", 40.0, 50.0),
            f("timing", 42.0, 44.0),
            f("clock", 46.0, 48.0),
        ];
        let b = bands(&faults, 0.0, 100.0, 0.0, 100.0);
        assert_eq!(overlaps(&b), vec![(15.0, 20.0), (42.0, 44.0), (46.0, 48.0)]);
        let one_kind = vec![f("crash", 0.0, 5.0), f("crash", 3.0, 8.0)];
        assert!(overlaps(&bands(&one_kind, 0.0, 10.0, 0.0, 10.0)).is_empty());
    }

    #[test]
    fn bands_merge_close_faults_of_a_kind() {
        let f = interval;
        let faults = vec![
            f("crash", 0.0, 1.0),
            f("crash", 1.05, 2.0),
            f("pause", 5.0, 6.0),
        ];
        let b = bands(&faults, 0.0, 10.0, 0.1, 10.0);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].kind.as_str(), b[0].count, b[0].end),
            ("crash", 2, 2.0)
        );
    }

    #[test]
    fn downsample_averages_blocks() {
        // 2x2 image of 2x2 blocks: one black pixel of four gives 191 (rounded 255*3/4).
        let mut big = vec![255u8; 4 * 4 * 3];
        big[0] = 0;
        big[1] = 0;
        big[2] = 0;
        let small = downsample(&big, 2, 2, 2);
        assert_eq!(&small[0..3], &[191, 191, 191]);
        assert_eq!(&small[3..6], &[255, 255, 255]);
    }

    #[test]
    fn faults_phrase_folds_long_lists() {
        assert_eq!(faults_phrase("crash:server-0"), "crash server-0");
        assert_eq!(
            faults_phrase("crash:a;crash:b;pause:c;crash:d;crash:e"),
            "crash a, crash b, pause c and 2 more"
        );
    }
}
