//! Screenshots of the window: a plot cut out of one and saved as PNG, or the whole window saved by
//! the autopilot (`mirador gui --screen compare --screenshot out.png`, the README's pictures and
//! the window smoke test).

use std::path::PathBuf;

use super::tab::Tab;
use crate::core::atomic::write_atomic;
use crate::core::{Error, Result};

/// What a screenshot is for.
#[derive(Clone)]
pub enum ShotTarget {
    /// A plot to cut out and save.
    Plot {
        /// Where it is, in points.
        rect: egui::Rect,
        /// The PNG file.
        path: PathBuf,
    },
    /// The whole window, for the autopilot (the app closes once it is saved).
    Autopilot(PathBuf),
}

/// A run of the app that shows one screen with its work done, saves a screenshot and closes.
pub struct Autopilot {
    /// The screen.
    pub tab: Tab,
    /// Where the PNG goes.
    pub screenshot: PathBuf,
    /// Whether the screen's work has been started.
    pub started: bool,
    /// Frames drawn since the last job finished.
    pub frames_idle: u32,
    /// Whether the screenshot has been asked for.
    pub requested: bool,
}

impl Autopilot {
    /// Show `tab`, run its work, save a screenshot to `screenshot`, close.
    pub fn new(tab: Tab, screenshot: PathBuf) -> Self {
        Self { tab, screenshot, started: false, frames_idle: 0, requested: false }
    }
}

/// Save an egui image as PNG, atomically.
pub fn save_png(image: &egui::ColorImage, path: &std::path::Path) -> Result<()> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let (w, h) = (u32::try_from(w), u32::try_from(h));
    let buffer = w
        .ok()
        .zip(h.ok())
        .and_then(|(w, h)| image::RgbaImage::from_raw(w, h, rgba))
        .ok_or_else(|| Error::internal("the screenshot has an unexpected size"))?;
    let mut bytes = Vec::new();
    buffer
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::internal(format!("cannot encode the PNG: {e}")))?;
    write_atomic(path, &bytes, "write the image")
}
