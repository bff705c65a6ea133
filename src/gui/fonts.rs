//! Fonts: egui's defaults, with DejaVu Sans (bundled in `assets/fonts`, free licence beside it) as
//! a fallback for the symbols they lack (✔ ✖ → ⚠ σ …).

/// Install the fallback font into `ctx`.
pub fn install(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "dejavu".into(),
        std::sync::Arc::new(egui::FontData::from_static(include_bytes!("../../assets/fonts/DejaVuSans.ttf"))),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("dejavu".into());
    }
    ctx.set_fonts(fonts);
}
