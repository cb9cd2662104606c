//! Listings for people: aligned columns (CJK-width aware) without borders, so that they read
//! well at a terminal and still cut well with `awk`; `--json` is there for programs.

use comfy_table::{ContentArrangement, presets};

/// A listing's rows under a header line.
pub struct Table {
    table: comfy_table::Table,
    rows: usize,
}

impl Table {
    pub fn new<const N: usize>(headers: [&str; N]) -> Self {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(headers);
        Self { table, rows: 0 }
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.table.add_row(cells);
        self.rows += 1;
    }

    /// Prints the table, or `empty` when it has no rows.
    pub fn print_or(mut self, empty: &str) {
        if self.rows == 0 {
            println!("{empty}");
        } else {
            // Flush left, two spaces between columns.
            for column in self.table.column_iter_mut() {
                column.set_padding((0, 2));
            }
            for line in self.table.lines() {
                println!("{}", line.trim_end());
            }
        }
    }
}
