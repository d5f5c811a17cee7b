//! What the local cloud simulates besides state: a server's metrics (a daily load curve with
//! noise, steady for the same server and instant, nothing while it is off) and its price list
//! (Hetzner's shared-vCPU types at their EUR list prices, so cost estimates look like a real
//! bill).

use super::{MetricFamily, MetricSeries, MetricWindow, MonthlyPrice};

/// The most points one series has (Hetzner caps a window at 500 samples too).
pub const MAX_POINTS: i64 = 500;

/// The simulated price list: server type → EUR a month before VAT.
const PRICES: &[(&str, f64)] =
    &[("cx22", 3.79), ("cx32", 6.80), ("cx42", 16.40), ("cx52", 32.40), ("cpx11", 4.35), ("cpx21", 7.55)];

/// The VAT the local cloud's gross prices include.
const VAT: f64 = 0.19;

/// The monthly price of `server_type` in the local cloud (the same at every location).
pub fn price(server_type: &str) -> Option<MonthlyPrice> {
    PRICES.iter().find(|(t, _)| *t == server_type).map(|(_, net)| MonthlyPrice {
        net: *net,
        gross: (net * (1.0 + VAT) * 10_000.0).round() / 10_000.0,
        currency: "EUR".into(),
    })
}

/// A number in [0, 1) fixed by `seed` and `t` (splitmix64).
fn noise(seed: u64, t: i64) -> f64 {
    let mut z = seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

/// The simulated series of server `id` over `w`; `running` false gives zeros (a stopped
/// server does nothing).
pub fn metrics(id: &str, running: bool, w: &MetricWindow) -> Vec<MetricSeries> {
    let seed = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let (start, end) = (w.start.timestamp(), w.end.timestamp());
    // As Hetzner does, a step too fine for the window is coarsened to at most MAX_POINTS.
    let step = w.step.max(1).max((end - start) / MAX_POINTS + 1);
    let times: Vec<i64> = (0..).map(|i| start + i * step).take_while(|t| *t <= end).collect();
    // Load follows the day (busiest mid-afternoon UTC) with noise of its own per series.
    let load = |t: i64, k: u64| {
        if !running {
            return 0.0;
        }
        let day = ((t % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU - 2.4).sin() * 0.5 + 0.5;
        0.15 + 0.6 * day + 0.25 * noise(seed ^ k, t)
    };
    let series = |name: &str, k: u64, scale: f64| MetricSeries {
        name: name.into(),
        points: times.iter().map(|t| (*t as f64, (load(*t, k) * scale * 100.0).round() / 100.0)).collect(),
    };
    match w.family {
        MetricFamily::Cpu => vec![series("cpu", 1, 100.0)],
        MetricFamily::Disk => vec![
            series("disk.0.iops.read", 2, 120.0),
            series("disk.0.iops.write", 3, 80.0),
            series("disk.0.bandwidth.read", 4, 4.0e6),
            series("disk.0.bandwidth.write", 5, 2.5e6),
        ],
        MetricFamily::Network => vec![
            series("network.0.pps.in", 6, 900.0),
            series("network.0.pps.out", 7, 700.0),
            series("network.0.bandwidth.in", 8, 1.2e6),
            series("network.0.bandwidth.out", 9, 0.8e6),
        ],
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn window(family: MetricFamily, step: i64) -> MetricWindow {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        MetricWindow { family, start, end: start + chrono::Duration::hours(24), step }
    }

    #[test]
    fn the_same_server_and_window_give_the_same_series_and_a_stopped_server_zeros() {
        let w = window(MetricFamily::Cpu, 3600);
        let a = metrics("17", true, &w);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].points.len(), 25);
        assert_eq!(a[0].points, metrics("17", true, &w)[0].points);
        assert_ne!(a[0].points, metrics("18", true, &w)[0].points);
        assert!(a[0].points.iter().all(|(_, y)| (0.0..=100.0).contains(y)));
        assert!(metrics("17", false, &w)[0].points.iter().all(|(_, y)| *y == 0.0));
    }

    #[test]
    fn a_fine_step_is_coarsened_to_at_most_500_points_and_families_name_their_series() {
        let d = metrics("1", true, &window(MetricFamily::Disk, 1));
        assert_eq!(d.len(), 4);
        assert!(d.iter().all(|s| s.points.len() <= 500 && s.points.len() > 400));
        assert_eq!(metrics("1", true, &window(MetricFamily::Network, 60))[0].name, "network.0.pps.in");
    }

    #[test]
    fn prices_are_the_list_prices_with_vat() {
        let p = price("cx22").unwrap();
        assert_eq!((p.net, p.gross, p.currency.as_str()), (3.79, 4.5101, "EUR"));
        assert!(price("no-such-type").is_none());
    }
}
