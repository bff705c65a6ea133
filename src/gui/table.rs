//! A table too big for memory, shown a page at a time: the rows in view are drawn from pages read
//! from the file in quiet background jobs and kept in a small cache, so scrolling through ten
//! million predictions costs a few hundred kilobytes of pages, never the whole file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use polars::prelude::DataFrame;

use super::command::Command;
use crate::core::writer::SortOrder;

/// Rows per page read from the file.
pub const PAGE_ROWS: usize = 512;
/// Pages kept in memory; the ones farthest from the view go first.
const KEEP_PAGES: usize = 24;

/// The pages of one file that are in memory or on their way.
#[derive(Default)]
pub struct PageCache {
    file: PathBuf,
    pages: BTreeMap<usize, DataFrame>,
    asked: BTreeSet<usize>,
}

impl PageCache {
    /// A cache for `file` (empty).
    pub fn new(file: PathBuf) -> Self {
        Self { file, ..Self::default() }
    }

    /// A page arrived (pages of another file are ignored).
    pub fn insert(&mut self, file: &std::path::Path, number: usize, frame: DataFrame) {
        if file != self.file {
            return;
        }
        self.asked.remove(&number);
        self.pages.insert(number, frame);
        while self.pages.len() > KEEP_PAGES {
            // Evict the page farthest from the one that just arrived (the view is near it).
            let far = self.pages.keys().copied().max_by_key(|p| p.abs_diff(number));
            if let Some(far) = far {
                self.pages.remove(&far);
            }
        }
    }

    /// A page could not be read: let it be asked for again.
    pub fn forget(&mut self, number: usize) {
        self.asked.remove(&number);
    }

    /// The text of `row` in column `column`, or `None` while its page is being read (then asked for
    /// through `commands`, once).
    fn cell(&mut self, row: usize, column: usize, commands: &mut Vec<Command>) -> Option<String> {
        let page = row / PAGE_ROWS;
        let Some(frame) = self.pages.get(&page) else {
            if self.asked.insert(page) {
                commands.push(Command::LoadPage(self.file.clone(), page));
            }
            return None;
        };
        let c = frame.columns().get(column)?;
        Some(match c.get(row % PAGE_ROWS) {
            Ok(v) => format_cell(&v),
            Err(_) => String::new(),
        })
    }
}

/// A cell as text: floats with six decimals (aligned in a column), text without quotes, missing
/// values empty.
fn format_cell(v: &polars::prelude::AnyValue<'_>) -> String {
    use polars::prelude::AnyValue;
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float32(x) => format!("{x:.6}"),
        AnyValue::Float64(x) => format!("{x:.6}"),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

impl PageCache {
    /// Whether column `j` holds numbers (drawn right-aligned), once a page shows its type.
    fn numeric(&self, j: usize) -> bool {
        self.pages.values().next().and_then(|f| f.columns().get(j)).is_some_and(|c| c.dtype().is_primitive_numeric())
    }
}

/// Draw `rows` rows of the table in `cache` with these `columns` (fixed widths, numbers
/// right-aligned), asking for the pages in view. Clicking a column's name asks to sort by it.
pub fn paged_table(
    ui: &mut egui::Ui,
    id: &str,
    columns: &[String],
    rows: usize,
    cache: &mut PageCache,
    sorted: Option<&SortOrder>,
    commands: &mut Vec<Command>,
) {
    let col_width = 120.0;
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    let cell = |ui: &mut egui::Ui, text: egui::RichText, right: bool| {
        let layout = if right {
            egui::Layout::right_to_left(egui::Align::Center)
        } else {
            egui::Layout::left_to_right(egui::Align::Center)
        };
        ui.allocate_ui_with_layout(egui::vec2(col_width, row_height), layout, |ui| {
            ui.set_min_width(col_width);
            ui.add(egui::Label::new(text).truncate());
        });
    };
    egui::ScrollArea::horizontal().id_salt((id, "h")).show(ui, |ui| {
        ui.horizontal(|ui| {
            cell(ui, egui::RichText::new("#").strong(), true);
            for c in columns {
                let mark = match sorted {
                    Some(s) if &s.column == c => {
                        if s.descending {
                            " ▼"
                        } else {
                            " ▲"
                        }
                    }
                    _ => "",
                };
                let header = ui.add_sized(
                    [col_width, row_height],
                    egui::Button::new(egui::RichText::new(format!("{c}{mark}")).strong()).frame(false),
                );
                if header.clicked() {
                    let descending = !sorted.is_some_and(|s| &s.column == c && s.descending);
                    commands.push(Command::SortTable(SortOrder { column: c.clone(), descending }));
                }
            }
        });
        egui::ScrollArea::vertical().id_salt((id, "v", &cache.file)).max_height(320.0).show_rows(
            ui,
            row_height,
            rows,
            |ui, range| {
                for row in range {
                    ui.horizontal(|ui| {
                        cell(ui, egui::RichText::new((row + 1).to_string()).weak(), true);
                        for j in 0..columns.len() {
                            let text = cache.cell(row, j, commands).unwrap_or_else(|| "…".into());
                            let right = cache.numeric(j);
                            cell(ui, egui::RichText::new(text).monospace(), right);
                        }
                    });
                }
            },
        );
    });
}
