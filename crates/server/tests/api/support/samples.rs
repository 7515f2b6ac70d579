//! Reading samples out of the Prometheus text the metrics listener serves.

/// The value of the first sample of `name` whose labels include every `labels` pair.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest),
                None => (series, ""),
            };
            (n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())?
        })
        .next()
}

#[track_caller]
pub fn assert_at_least(text: &str, name: &str, labels: &[(&str, &str)], min: f64) {
    match sample(text, name, labels) {
        Some(v) => assert!(v >= min, "{name}{labels:?} = {v}, expected >= {min}"),
        None => panic!("no sample {name}{labels:?} in:\n{text}"),
    }
}
