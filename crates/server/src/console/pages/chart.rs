//! Line and bar charts as inline SVG, drawn on the server: no script, styled by the console's
//! stylesheet (classes only, so the CSP needs no inline style).

use crate::console::html::E;
use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// A horizontal line: the alert threshold and what it is.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub value: f64,
    pub label: String,
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn legend(names: &[String]) -> String {
    let mut s = String::from("<ul class=\"legend\">");
    for (i, n) in names.iter().enumerate() {
        let _ = write!(s, "<li class=\"k{}\">■ {}</li>", i % 6, E(n));
    }
    s.push_str("</ul>");
    s
}

/// One value per minute per series, oldest first (`None`: no data that minute, a gap).
pub fn lines(
    caption: &str,
    unit: &str,
    series: &[(String, Vec<Option<f64>>)],
    threshold: Option<&Threshold>,
) -> String {
    let n = series.iter().map(|s| s.1.len()).max().unwrap_or(0).max(2);
    let data_max = series
        .iter()
        .flat_map(|s| s.1.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let max = data_max
        .max(threshold.map(|t| t.value * 1.15).unwrap_or(0.0))
        .max(f64::MIN_POSITIVE);
    let max = if data_max == 0.0 && threshold.is_none() {
        1.0
    } else {
        max
    };
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}, last hour, per minute{}\">",
        E(caption),
        E(caption),
        match threshold {
            Some(t) => format!("; alert threshold {} {}", fmt_num(t.value), unit),
            None => String::new(),
        }
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 4.0,
            yy + 3.0,
            fmt_num(v)
        );
    }
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{}\"/><line class=\"axis\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
         <text x=\"{LEFT}\" y=\"{}\">-60 min</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">now</text><text x=\"4\" y=\"{}\">{}</text>",
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM,
        H - 6.0,
        W - RIGHT,
        H - 6.0,
        H - 6.0,
        E(unit)
    );
    if let Some(t) = threshold {
        let yy = y(t.value);
        let _ = write!(
            s,
            "<line class=\"threshold\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"><title>{}</title></line>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">alert: {}</text>",
            W - RIGHT,
            E(&t.label),
            W - RIGHT,
            yy - 3.0,
            E(&t.label)
        );
    }
    for (i, (name, values)) in series.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        for (j, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(j),
                        y(*v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                "<path class=\"series s{}\" d=\"{}\"><title>{}</title></path>",
                i % 6,
                d.trim_end(),
                E(name)
            );
        }
    }
    s.push_str("</svg>");
    let names: Vec<String> = series.iter().map(|s| s.0.clone()).collect();
    s.push_str(&legend(&names));
    s.push_str("</figure>");
    s
}

/// Horizontal bars, one per label, with the threshold as a vertical line.
pub fn bars(
    caption: &str,
    unit: &str,
    items: &[(String, f64)],
    threshold: Option<&Threshold>,
) -> String {
    let rows = items.len().max(1);
    let h = TOP + BOTTOM + 24.0 * rows as f64;
    let max = items
        .iter()
        .map(|i| i.1)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(threshold.map(|t| t.value * 1.15).unwrap_or(1.0));
    let left = 200.0;
    let x = |v: f64| left + (W - left - RIGHT) * (v.min(max) / max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{}\">",
        E(caption),
        E(caption)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let yy = TOP + 24.0 * i as f64;
        let shown = if v.is_finite() {
            format!("{} {unit}", fmt_num(*v))
        } else {
            "never loaded".into()
        };
        let width = if v.is_finite() {
            x(*v) - left
        } else {
            W - left - RIGHT
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{left}\" y=\"{yy:.1}\" width=\"{width:.1}\" height=\"16\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left - 6.0,
            yy + 12.0,
            E(label),
            E(&shown),
            (left + width + 4.0).min(W - 60.0),
            yy + 12.0,
            E(&shown)
        );
    }
    if let Some(t) = threshold {
        let xx = x(t.value);
        let _ = write!(
            s,
            "<line class=\"threshold\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\"><title>{}</title></line>\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">alert: {}</text>",
            h - BOTTOM,
            E(&t.label),
            h - 6.0,
            E(&t.label)
        );
    }
    s.push_str("</svg></figure>");
    s
}
