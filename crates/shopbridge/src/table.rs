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

/// The most columns a generic listing shows; `--json` has every field.
const MAX_COLUMNS: usize = 16;

/// A platform's answer for people: a list of records as a table (one column per plain field,
/// nested lists as their size), a single record as field/value lines, a plain value as it is.
/// Never Rust's debug output; `--json` gives the whole answer.
pub fn print_value(value: &serde_json::Value) {
    use serde_json::Value;
    let cell = |value: &Value| match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => format!("[{} items]", items.len()),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(text) => format!("{k}={text}"),
                Value::Null => format!("{k}="),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    // A wrapper with one list in it (`{"total": 3, "list": [...]}`) is shown as that list,
    // after its other fields.
    if let Value::Object(map) = value {
        let lists: Vec<_> = map
            .iter()
            .filter(|(_, v)| v.as_array().is_some_and(|a| a.iter().all(Value::is_object)))
            .collect();
        if lists.len() == 1 {
            for (name, field) in map.iter().filter(|(_, v)| !v.is_array()) {
                println!("{name}: {}", cell(field));
            }
            let (name, list) = lists[0];
            println!("{name}:");
            return print_value(list);
        }
    }
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut columns: Vec<&str> = Vec::new();
            for item in items {
                if let Value::Object(map) = item {
                    for name in map.keys() {
                        if !columns.contains(&name.as_str()) && columns.len() < MAX_COLUMNS {
                            columns.push(name);
                        }
                    }
                }
            }
            let mut table = comfy_table::Table::new();
            table
                .load_preset(presets::NOTHING)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(columns.iter().map(|c| c.to_uppercase()));
            for item in items {
                table.add_row(columns.iter().map(|c| cell(&item[*c])));
            }
            for column in table.column_iter_mut() {
                column.set_padding((0, 2));
            }
            if items.is_empty() {
                println!("none");
            }
            for line in table.lines().filter(|_| !items.is_empty()) {
                println!("{}", line.trim_end());
            }
        }
        Value::Object(map) => {
            let width = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
            for (name, field) in map {
                match field {
                    Value::Array(items)
                        if items.iter().all(Value::is_object) && !items.is_empty() =>
                    {
                        println!("{name}:");
                        print_value(field);
                    }
                    _ => println!("{name:<width$}  {}", cell(field)),
                }
            }
        }
        other => println!("{}", cell(other)),
    }
}
