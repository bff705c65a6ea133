//! Plots drawn straight to PNG for the bundle's model card (no window needed): axes from 0 to 1,
//! a light grid, and polylines. Captions live in the card's text.

use image::{Rgba, RgbaImage};

use crate::core::error::{Error, Result};

const W: u32 = 480;
const H: u32 = 360;
const PAD: f64 = 30.0;

/// Series colours, in order.
const COLOURS: [[u8; 4]; 4] = [[31, 119, 180, 255], [255, 127, 14, 255], [44, 160, 44, 255], [214, 39, 40, 255]];

/// A line plot of `series` (points in 0..=1 × 0..=1) as PNG bytes; `diagonal` adds y = x.
pub fn line_plot_png(series: &[Vec<(f64, f64)>], diagonal: bool) -> Result<Vec<u8>> {
    let mut img = RgbaImage::from_pixel(W, H, Rgba([255, 255, 255, 255]));
    let to_px = |x: f64, y: f64| {
        (
            PAD + x.clamp(0.0, 1.0) * (f64::from(W) - 2.0 * PAD),
            f64::from(H) - PAD - y.clamp(0.0, 1.0) * (f64::from(H) - 2.0 * PAD),
        )
    };
    let grid = Rgba([225, 225, 225, 255]);
    for i in 0..=10 {
        let t = f64::from(i) / 10.0;
        line(&mut img, to_px(t, 0.0), to_px(t, 1.0), grid);
        line(&mut img, to_px(0.0, t), to_px(1.0, t), grid);
    }
    let axis = Rgba([60, 60, 60, 255]);
    line(&mut img, to_px(0.0, 0.0), to_px(1.0, 0.0), axis);
    line(&mut img, to_px(0.0, 0.0), to_px(0.0, 1.0), axis);
    if diagonal {
        line(&mut img, to_px(0.0, 0.0), to_px(1.0, 1.0), Rgba([150, 150, 150, 255]));
    }
    for (points, colour) in series.iter().zip(COLOURS.iter().cycle()) {
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite() {
                thick_line(&mut img, to_px(a.0, a.1), to_px(b.0, b.1), Rgba(*colour));
            }
        }
    }
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Invalid(format!("cannot encode a plot: {e}")))?;
    Ok(bytes)
}

fn line(img: &mut RgbaImage, a: (f64, f64), b: (f64, f64), colour: Rgba<u8>) {
    let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let t = f64::from(i) / f64::from(steps);
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        if x >= 0.0 && y >= 0.0 && (x as u32) < W && (y as u32) < H {
            img.put_pixel(x as u32, y as u32, colour);
        }
    }
}

fn thick_line(img: &mut RgbaImage, a: (f64, f64), b: (f64, f64), colour: Rgba<u8>) {
    for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
        line(img, (a.0 + dx, a.1 + dy), (b.0 + dx, b.1 + dy), colour);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_with_the_series_colour() {
        let png = line_plot_png(&[vec![(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]], true).expect("png");
        let img = image::load_from_memory(&png).expect("decodes").to_rgba8();
        assert_eq!(img.dimensions(), (W, H));
        assert!(img.pixels().any(|p| p.0 == COLOURS[0]), "the series is drawn");
    }
}
