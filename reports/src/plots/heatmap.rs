//! The metastability map: a grid of two varied fields drawn as a heatmap, SVG and PNG.
//!
//! Each cell's colour is the fraction of its seeds judged metastable (a sequential
//! scale, white to dark red, with the scale drawn beside the grid), and its text the
//! fraction and the median recovery time; a cell where no seed had a verdict (no fault
//! or spike ended) is grey and reads "—". Rows are the first field's values (top to
//! bottom as given), columns the second's (left to right). Each SVG cell carries a
//! `<title>` with its numbers, shown as a tooltip.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ensure_font, err, finish_plot, Plot, FAMILY, SUPERSAMPLE};
use crate::error::ReportError;

/// Width of the chart, pixels (PNG) and user units (SVG).
const WIDTH: u32 = 1400;

/// Most rows or columns a heatmap draws (a grid's cells are bounded before it runs).
pub const MAX_AXIS: usize = 64;

/// One cell of a [`Heatmap`].
#[derive(Clone, Debug, PartialEq)]
pub struct HeatCell {
    /// The colour's value, 0..1 (the fraction of seeds metastable); `None`: no verdict.
    pub value: Option<f64>,
    /// The first text line (`60 %`).
    pub text: String,
    /// The second text line (`rec 4.0 s`).
    pub subtext: String,
    /// The hover text.
    pub tip: String,
}

/// A heatmap to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// The title.
    pub title: String,
    /// The caption under the title (what a cell shows).
    pub caption: String,
    /// A line under the caption (the settings every cell shares); empty for none.
    pub note: String,
    /// The rows' axis label (the first varied field).
    pub row_label: String,
    /// The columns' axis label (the second varied field).
    pub column_label: String,
    /// The rows' values, top to bottom.
    pub rows: Vec<String>,
    /// The columns' values, left to right.
    pub columns: Vec<String>,
    /// The cells, row by row.
    pub cells: Vec<HeatCell>,
    /// The colour scale's label.
    pub scale_label: String,
}

/// The layout, in pixels at scale 1.
struct Layout {
    left: i32,
    top: i32,
    cell_w: i32,
    cell_h: i32,
    height: u32,
}

impl Heatmap {
    fn layout(&self) -> Layout {
        let rows = self.rows.len().max(1) as i32;
        let columns = self.columns.len().max(1) as i32;
        let (left, top) = (230, 126);
        // Room on the right for the colour scale.
        let cell_w = ((WIDTH as i32 - left - 170) / columns).max(8);
        let cell_h = (560 / rows).clamp(16, 96);
        Layout {
            left,
            top,
            cell_w,
            cell_h,
            height: (top + rows * cell_h + 90) as u32,
        }
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH, self.layout().height)
    }
}

/// The colour of `value` (0..1): white through orange to dark red (ColorBrewer's
/// sequential OrRd, Harrower and Brewer 2003), grey without one.
fn colour(value: Option<f64>) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (0xff, 0xf7, 0xec),
        (0xfd, 0xd4, 0x9e),
        (0xfc, 0x8d, 0x59),
        (0xd7, 0x30, 0x1f),
        (0x7f, 0x00, 0x00),
    ];
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return RGBColor(0xd0, 0xd0, 0xd0);
    };
    let x = v.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let t = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Text on `c`: white on dark cells, black on light ones.
fn ink(c: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luma < 120.0 {
        WHITE
    } else {
        BLACK
    }
}

/// `text` cut to what fits in `px` pixels at about 8 pixels a character.
fn fit(text: &str, px: i32) -> String {
    let most = (px / 8).max(1) as usize;
    crate::text::clip(text, most)
}

type DrawResult<T> = Result<T, String>;

fn centred<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: TextStyle,
) -> DrawResult<()> {
    let (w, h) = area.estimate_text_size(text, &font).map_err(err)?;
    area.draw(&Text::new(
        text.to_string(),
        (x - w as i32 / 2, y - h as i32 / 2),
        font,
    ))
    .map_err(err)
}

impl Heatmap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<()> {
        ensure_font();
        let ki = k as i32;
        let l = self.layout();
        root.fill(&WHITE).map_err(err)?;
        let font = |px: u32, c: RGBColor| -> TextStyle { (FAMILY, px * k).into_font().color(&c) };
        let grey = RGBColor(0x44, 0x44, 0x44);
        centred(
            root,
            &self.title,
            (WIDTH as i32 * ki / 2, 22 * ki),
            font(23, BLACK),
        )?;
        centred(
            root,
            &self.caption,
            (WIDTH as i32 * ki / 2, 50 * ki),
            font(15, grey),
        )?;
        if !self.note.is_empty() {
            centred(
                root,
                &fit(&self.note, WIDTH as i32 - 40),
                (WIDTH as i32 * ki / 2, 72 * ki),
                font(15, grey),
            )?;
        }
        let (rows, columns) = (self.rows.len() as i32, self.columns.len() as i32);
        let (x0, y0) = (l.left, l.top);
        // Cells.
        for (index, cell) in self.cells.iter().enumerate() {
            let (r, c) = (index as i32 / columns.max(1), index as i32 % columns.max(1));
            let (cx, cy) = (x0 + c * l.cell_w, y0 + r * l.cell_h);
            let fill = colour(cell.value);
            root.draw(&Rectangle::new(
                [
                    (cx * ki, cy * ki),
                    ((cx + l.cell_w) * ki, (cy + l.cell_h) * ki),
                ],
                fill.filled(),
            ))
            .map_err(err)?;
            root.draw(&Rectangle::new(
                [
                    (cx * ki, cy * ki),
                    ((cx + l.cell_w) * ki, (cy + l.cell_h) * ki),
                ],
                WHITE.stroke_width(2 * k),
            ))
            .map_err(err)?;
            let mid = (cx + l.cell_w / 2) * ki;
            let text_c = ink(fill);
            if l.cell_h >= 40 && l.cell_w >= 56 {
                centred(
                    root,
                    &fit(&cell.text, l.cell_w),
                    (mid, (cy + l.cell_h / 2 - 10) * ki),
                    font(16, text_c),
                )?;
                centred(
                    root,
                    &fit(&cell.subtext, l.cell_w),
                    (mid, (cy + l.cell_h / 2 + 11) * ki),
                    font(14, text_c),
                )?;
            } else if l.cell_h >= 16 && l.cell_w >= 40 {
                centred(
                    root,
                    &fit(&cell.text, l.cell_w),
                    (mid, (cy + l.cell_h / 2) * ki),
                    font(12, text_c),
                )?;
            }
        }
        // Tick labels: the values as written, with their units.
        for (r, value) in self.rows.iter().enumerate() {
            let y = y0 + r as i32 * l.cell_h + l.cell_h / 2;
            let text = fit(value, l.left - 120);
            let style = font(15, BLACK);
            let (w, h) = root.estimate_text_size(&text, &style).map_err(err)?;
            root.draw(&Text::new(
                text,
                ((x0 - 10) * ki - w as i32, y * ki - h as i32 / 2),
                style,
            ))
            .map_err(err)?;
        }
        for (c, value) in self.columns.iter().enumerate() {
            let x = x0 + c as i32 * l.cell_w + l.cell_w / 2;
            centred(
                root,
                &fit(value, l.cell_w),
                (x * ki, (y0 + rows * l.cell_h + 16) * ki),
                font(15, BLACK),
            )?;
        }
        // Axis labels.
        centred(
            root,
            &fit(&self.column_label, l.cell_w * columns),
            (
                (x0 + l.cell_w * columns / 2) * ki,
                (y0 + rows * l.cell_h + 46) * ki,
            ),
            font(17, BLACK),
        )?;
        // The rows' label above their values, written across: a field path is too long
        // to stand turned beside a few rows.
        root.draw(&Text::new(
            fit(&self.row_label, WIDTH as i32 - 200),
            (20 * ki, (y0 - 30) * ki),
            font(17, BLACK),
        ))
        .map_err(err)?;
        // The colour scale: 0 % at the bottom, 100 % at the top.
        let sx = x0 + columns * l.cell_w + 40;
        let (sy0, sy1) = (y0, y0 + (rows * l.cell_h).max(120));
        let steps = 50;
        for step in 0..steps {
            let v = f64::from(step) / f64::from(steps - 1);
            let ya = sy1 - (sy1 - sy0) * (step + 1) / steps;
            let yb = sy1 - (sy1 - sy0) * step / steps;
            root.draw(&Rectangle::new(
                [(sx * ki, ya * ki), ((sx + 22) * ki, yb * ki)],
                colour(Some(v)).filled(),
            ))
            .map_err(err)?;
        }
        root.draw(&Rectangle::new(
            [(sx * ki, sy0 * ki), ((sx + 22) * ki, sy1 * ki)],
            grey.stroke_width(k),
        ))
        .map_err(err)?;
        for (v, label) in [(0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")] {
            let y = sy1 - ((sy1 - sy0) as f64 * v) as i32;
            let style = font(14, BLACK);
            let (_, h) = root.estimate_text_size(label, &style).map_err(err)?;
            root.draw(&Text::new(
                label.to_string(),
                ((sx + 28) * ki, y * ki - h as i32 / 2),
                style,
            ))
            .map_err(err)?;
        }
        let scale_font = font(14, grey).transform(FontTransform::Rotate270);
        let (w, _) = root
            .estimate_text_size(&self.scale_label, &font(14, grey))
            .map_err(err)?;
        root.draw(&Text::new(
            self.scale_label.clone(),
            ((sx + 80) * ki, ((sy0 + sy1) / 2) * ki + w as i32 / 2),
            scale_font,
        ))
        .map_err(err)?;
        // No verdict: the grey swatch under the scale.
        let gy = sy1 + 14;
        root.draw(&Rectangle::new(
            [(sx * ki, gy * ki), ((sx + 22) * ki, (gy + 16) * ki)],
            colour(None).filled(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            "— no verdict".to_string(),
            ((sx + 28) * ki, gy * ki),
            font(13, BLACK),
        ))
        .map_err(err)?;
        Ok(())
    }

    /// Transparent regions over the cells with their hover text (SVG only).
    fn tips(&self) -> String {
        let l = self.layout();
        let columns = self.columns.len().max(1);
        let mut out = String::from("<g fill=\"transparent\">");
        for (index, cell) in self.cells.iter().enumerate() {
            let (r, c) = ((index / columns) as i32, (index % columns) as i32);
            out.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
                l.left + c * l.cell_w,
                l.top + r * l.cell_h,
                l.cell_w,
                l.cell_h,
                xml_escape(&cell.tip)
            ));
        }
        out.push_str("</g>");
        out
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes `heatmap` as `<name>.svg` and `<name>.png` in `dir`.
pub fn heatmap(dir: &Path, name: &str, heatmap: &Heatmap) -> Result<Plot, ReportError> {
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    let plot_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| ReportError::Plot { path, message }
    };
    let cells = heatmap.rows.len() * heatmap.columns.len();
    if heatmap.rows.len() > MAX_AXIS
        || heatmap.columns.len() > MAX_AXIS
        || heatmap.cells.len() != cells
        || cells == 0
    {
        return Err(plot_err(&svg_path)(format!(
            "a heatmap of {} rows by {} columns (at most {MAX_AXIS} each) with {} cells",
            heatmap.rows.len(),
            heatmap.columns.len(),
            heatmap.cells.len()
        )));
    }
    let size = heatmap.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        heatmap.draw(&root, 1).map_err(plot_err(&svg_path))?;
        root.present()
            .map_err(|e| plot_err(&svg_path)(e.to_string()))?;
    }
    finish_plot(
        name,
        svg_path,
        png_path,
        svg,
        &heatmap.tips(),
        size,
        |root| heatmap.draw(root, SUPERSAMPLE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_runs_from_light_to_dark_and_grey_marks_no_verdict() {
        let luma = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        let values: Vec<u32> = (0..=10)
            .map(|i| luma(colour(Some(f64::from(i) / 10.0))))
            .collect();
        assert!(values.windows(2).all(|w| w[0] > w[1]), "{values:?}");
        assert_eq!(colour(Some(0.0)), RGBColor(0xff, 0xf7, 0xec));
        assert_eq!(colour(Some(1.0)), RGBColor(0x7f, 0x00, 0x00));
        assert_eq!(colour(None), colour(Some(f64::NAN)));
        assert_eq!(ink(colour(Some(1.0))), WHITE);
        assert_eq!(ink(colour(Some(0.0))), BLACK);
    }
}
