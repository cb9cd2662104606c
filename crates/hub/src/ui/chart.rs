//! A bar chart of money per day drawn as SVG on the server: commission up, deductions down from
//! a zero line, the net as a mark per day, with value axes, date labels and per-day values for
//! hovering.

use serde::Serialize;

/// One day's amounts, in yuan (for drawing; the table shows the exact values).
#[derive(Debug, Clone)]
pub struct DayAmounts {
    /// `yyyy-MM-dd`.
    pub day: String,
    pub commission: f64,
    pub deduction: f64,
    pub net: f64,
    /// The exact amounts as text, for the hover card.
    pub commission_text: String,
    pub deduction_text: String,
    pub net_text: String,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct DayBar {
    pub day: String,
    pub x: f64,
    pub width: f64,
    /// The band hovered for the day (the plot's full height).
    pub band_x: f64,
    pub band_width: f64,
    pub up_y: f64,
    pub up_height: f64,
    pub down_y: f64,
    pub down_height: f64,
    pub net_y: f64,
    pub commission: String,
    pub deduction: String,
    pub net: String,
}

/// Everything the template needs to draw the chart.
#[derive(Debug, Serialize)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub zero_y: f64,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub bars: Vec<DayBar>,
    /// Nothing to draw: every day is zero.
    pub empty: bool,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// A round step (1, 2 or 5 times a power of ten) that cuts `span` into at most `parts`.
fn nice_step(span: f64, parts: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / parts;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * power)
}

fn money_label(value: f64) -> String {
    if value.abs() >= 10_000.0 {
        format!("¥{:.1}万", value / 10_000.0)
    } else if value.fract().abs() < 1e-9 {
        format!("¥{value:.0}")
    } else {
        format!("¥{value:.2}")
    }
}

/// Lays out `days` (in order) as a chart.
pub fn bar_chart(days: &[DayAmounts]) -> BarChart {
    let up = days
        .iter()
        .map(|d| d.commission.max(0.0))
        .fold(0.0, f64::max);
    let down = days
        .iter()
        .map(|d| d.deduction.max(0.0))
        .fold(0.0, f64::max);
    let lowest_net = days.iter().map(|d| d.net).fold(0.0, f64::min);
    let empty = up == 0.0 && down == 0.0;
    let low = down.max(-lowest_net);
    let step = nice_step(up + low, 6.0);
    let top_value = if up > 0.0 {
        (up / step).ceil() * step
    } else {
        step
    };
    let bottom_value = if low > 0.0 {
        -(low / step).ceil() * step
    } else {
        0.0
    };
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y_of = |value: f64| TOP + (top_value - value) / (top_value - bottom_value) * plot_height;
    let mut y_ticks = Vec::new();
    let mut value = bottom_value;
    while value <= top_value + step / 2.0 {
        y_ticks.push(Tick {
            at: y_of(value),
            label: money_label(value),
        });
        value += step;
    }
    let plot_width = WIDTH - LEFT - RIGHT;
    let band = plot_width / days.len().max(1) as f64;
    let bar_width = (band * 0.7).max(1.0);
    let zero_y = y_of(0.0);
    let bars: Vec<DayBar> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let band_x = LEFT + i as f64 * band;
            let up_y = y_of(d.commission.max(0.0));
            let down_bottom = y_of(-d.deduction.max(0.0));
            DayBar {
                day: d.day.clone(),
                x: band_x + (band - bar_width) / 2.0,
                width: bar_width,
                band_x,
                band_width: band,
                up_y,
                up_height: zero_y - up_y,
                down_y: zero_y,
                down_height: down_bottom - zero_y,
                net_y: y_of(d.net),
                commission: d.commission_text.clone(),
                deduction: d.deduction_text.clone(),
                net: d.net_text.clone(),
            }
        })
        .collect();
    // About eight date labels, whatever the period.
    let every = days.len().div_ceil(8).max(1);
    let x_ticks = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, d)| Tick {
            at: LEFT + i as f64 * band + band / 2.0,
            label: d.day.get(5..).unwrap_or(&d.day).to_owned(),
        })
        .collect();
    BarChart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: WIDTH - RIGHT,
        top: TOP,
        bottom: HEIGHT - BOTTOM,
        zero_y,
        y_ticks,
        x_ticks,
        bars,
        empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, commission: f64, deduction: f64) -> DayAmounts {
        DayAmounts {
            day: day.into(),
            commission,
            deduction,
            net: commission - deduction,
            commission_text: commission.to_string(),
            deduction_text: deduction.to_string(),
            net_text: (commission - deduction).to_string(),
        }
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.3, 5.0), 2.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
    }

    #[test]
    fn bars_go_up_for_commission_and_down_for_deductions() {
        let chart = bar_chart(&[day("2026-11-01", 80.0, 0.0), day("2026-11-02", 0.0, 30.0)]);
        assert!(!chart.empty);
        let (a, b) = (&chart.bars[0], &chart.bars[1]);
        assert!(a.up_height > 0.0 && a.down_height == 0.0);
        assert!(b.up_height == 0.0 && b.down_height > 0.0);
        assert!((a.up_y + a.up_height - chart.zero_y).abs() < 1e-9);
        // The axis reaches past the largest value on both sides, in round steps.
        let labels: Vec<_> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"¥-40"));
        assert_eq!(labels.last(), Some(&"¥80"));
        assert_eq!(chart.x_ticks[0].label, "11-01");
    }

    #[test]
    fn a_period_without_money_is_empty() {
        let days: Vec<_> = (1..=30)
            .map(|d| day(&format!("2026-11-{d:02}"), 0.0, 0.0))
            .collect();
        let chart = bar_chart(&days);
        assert!(chart.empty);
        assert!(chart.x_ticks.len() <= 8);
    }
}
