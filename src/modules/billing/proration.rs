//! Proration: what a plan change costs now, as pure arithmetic on minor units (no floats).
//!
//! - An **upgrade** (a more capable plan, or the same plan billed yearly instead of monthly)
//!   applies at once. Within the same interval the period stays: the unused part of the old
//!   price is credited and the rest of the period is charged at the new price. With another
//!   interval, or from a price of zero (free or trial), a new period starts now and the whole
//!   new price is charged, less the unused part of the old one.
//! - A **downgrade** applies at the period end: nothing is charged or credited now.
//! - Tax is the organisation's rate on the subtotal; credit from earlier changes pays first;
//!   a negative subtotal becomes credit for later invoices.
//!
//! Amounts are rounded half up to the minor unit.

use chrono::{DateTime, Months, Utc};
use entity::subscription::BillingInterval;

/// The subscription being changed.
#[derive(Clone, Debug)]
pub struct Current {
    pub rank: i32,
    /// What the current period was paid (zero for free plans and trials).
    pub amount: i64,
    pub interval: BillingInterval,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// The plan and price asked for.
#[derive(Clone, Debug)]
pub struct Target {
    pub rank: i32,
    pub amount: i64,
    pub interval: BillingInterval,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Upgrade,
    Downgrade,
    /// The plan and interval already held.
    Same,
}

/// What a change costs, before it is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub kind: ChangeKind,
    /// When the change takes effect (now, or the period end for a downgrade).
    pub effective_at: DateTime<Utc>,
    /// Credit for the unused part of the current price.
    pub credit: i64,
    /// Charge for the new price (the rest of the period, or a whole new one).
    pub charge: i64,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    /// Credit balance used towards the total.
    pub credit_applied: i64,
    pub amount_due: i64,
    /// Credit balance after the change.
    pub credit_balance_after: i64,
    /// The period the new price covers.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// The end of a period of `interval` starting at `start` (calendar months, clamped to the
/// month's last day).
pub fn period_end(start: DateTime<Utc>, interval: BillingInterval) -> DateTime<Utc> {
    let months = match interval {
        BillingInterval::Month => 1,
        BillingInterval::Year => 12,
    };
    start.checked_add_months(Months::new(months)).expect("a date within chrono's range")
}

/// `amount × part ÷ whole`, rounded half up (all non-negative).
pub fn prorate(amount: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let part = part.clamp(0, whole) as i128;
    ((amount as i128 * part * 2 + whole as i128) / (whole as i128 * 2)) as i64
}

/// Tax on `subtotal` at `bps` basis points, rounded half up.
pub fn tax(subtotal: i64, bps: i32) -> i64 {
    if subtotal <= 0 || bps <= 0 {
        return 0;
    }
    prorate(subtotal, bps as i64, 10_000)
}

pub fn kind(current: &Current, target: &Target) -> ChangeKind {
    use std::cmp::Ordering::*;
    match target.rank.cmp(&current.rank) {
        Greater => ChangeKind::Upgrade,
        Less => ChangeKind::Downgrade,
        Equal => match (current.interval, target.interval) {
            (BillingInterval::Month, BillingInterval::Year) => ChangeKind::Upgrade,
            (BillingInterval::Year, BillingInterval::Month) => ChangeKind::Downgrade,
            _ => ChangeKind::Same,
        },
    }
}

/// What changing from `current` to `target` at `now` costs.
pub fn quote(
    now: DateTime<Utc>,
    current: &Current,
    target: &Target,
    tax_bps: i32,
    credit_balance: i64,
) -> Quote {
    let kind = kind(current, target);
    let whole = (current.period_end - current.period_start).num_seconds();
    let remaining = (current.period_end - now).num_seconds();
    let (effective_at, credit, charge, period_start, period_end_at) = match kind {
        ChangeKind::Same => (now, 0, 0, current.period_start, current.period_end),
        ChangeKind::Downgrade => {
            (current.period_end, 0, 0, current.period_end, period_end(current.period_end, target.interval))
        }
        ChangeKind::Upgrade => {
            let credit = prorate(current.amount, remaining, whole);
            if current.interval == target.interval && current.amount > 0 {
                (
                    now,
                    credit,
                    prorate(target.amount, remaining, whole),
                    current.period_start,
                    current.period_end,
                )
            } else {
                (now, credit, target.amount, now, period_end(now, target.interval))
            }
        }
    };
    let subtotal = charge - credit;
    let tax = tax(subtotal, tax_bps);
    let total = subtotal.max(0) + tax;
    let credit_applied = credit_balance.max(0).min(total);
    Quote {
        kind,
        effective_at,
        credit,
        charge,
        subtotal,
        tax,
        total,
        credit_applied,
        amount_due: total - credit_applied,
        credit_balance_after: credit_balance - credit_applied + (-subtotal).max(0),
        period_start,
        period_end: period_end_at,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use BillingInterval::{Month, Year};

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    /// Each row: current (rank, amount, interval, start, end), target (rank, amount,
    /// interval), now, tax bps, credit balance → expected (kind, credit, charge, subtotal,
    /// tax, total, credit applied, due, balance after), all computed by hand.
    #[test]
    fn quotes_match_hand_computed_amounts() {
        let dec1 = at(1, 0);
        let dec31 = at(31, 0); // a 30-day period
        struct Row {
            name: &'static str,
            current: Current,
            target: Target,
            now: DateTime<Utc>,
            bps: i32,
            balance: i64,
            want: (ChangeKind, i64, i64, i64, i64, i64, i64, i64, i64),
        }
        let cur = |rank, amount, interval, start, end| Current {
            rank,
            amount,
            interval,
            period_start: start,
            period_end: end,
        };
        let rows = [
            Row {
                // 15 of 30 days left: credit 2900/2, charge 9900/2, 20 % tax on 3500.
                name: "pro to business, half way, 20 % tax",
                current: cur(1, 2_900, Month, dec1, dec31),
                target: Target { rank: 2, amount: 9_900, interval: Month },
                now: at(16, 0),
                bps: 2_000,
                balance: 0,
                want: (ChangeKind::Upgrade, 1_450, 4_950, 3_500, 700, 4_200, 0, 4_200, 0),
            },
            Row {
                // 10 of 30 days left: 2900/3 = 966.67 → 967; 9900/3 = 3300.
                name: "pro to business, a third left, rounding half up",
                current: cur(1, 2_900, Month, dec1, dec31),
                target: Target { rank: 2, amount: 9_900, interval: Month },
                now: at(21, 0),
                bps: 0,
                balance: 0,
                want: (ChangeKind::Upgrade, 967, 3_300, 2_333, 0, 2_333, 0, 2_333, 0),
            },
            Row {
                // Yearly billing of the same plan: a new period, the whole yearly price, less
                // half a month; 19 % of 27550 = 5234.5 → 5235.
                name: "pro monthly to pro yearly",
                current: cur(1, 2_900, Month, dec1, dec31),
                target: Target { rank: 1, amount: 29_000, interval: Year },
                now: at(16, 0),
                bps: 1_900,
                balance: 0,
                want: (ChangeKind::Upgrade, 1_450, 29_000, 27_550, 5_235, 32_785, 0, 32_785, 0),
            },
            Row {
                // Credit from earlier pays first.
                name: "credit balance applied",
                current: cur(1, 2_900, Month, dec1, dec31),
                target: Target { rank: 2, amount: 9_900, interval: Month },
                now: at(16, 0),
                bps: 2_000,
                balance: 1_000,
                want: (ChangeKind::Upgrade, 1_450, 4_950, 3_500, 700, 4_200, 1_000, 3_200, 0),
            },
            Row {
                // From free: nothing to credit, a new period, the whole price.
                name: "free to pro",
                current: cur(0, 0, Month, dec1, dec31),
                target: Target { rank: 1, amount: 2_900, interval: Month },
                now: at(16, 0),
                bps: 0,
                balance: 0,
                want: (ChangeKind::Upgrade, 0, 2_900, 2_900, 0, 2_900, 0, 2_900, 0),
            },
            Row {
                // Half a 365-day year unused (14500 of 29000) is more than a month of Business:
                // nothing due, the rest becomes credit.
                name: "pro yearly to business monthly leaves credit",
                current: cur(
                    1,
                    29_000,
                    Year,
                    at(1, 0) - chrono::Duration::days(182) - chrono::Duration::hours(12),
                    at(1, 0) + chrono::Duration::days(182) + chrono::Duration::hours(12),
                ),
                target: Target { rank: 2, amount: 9_900, interval: Month },
                now: at(1, 0),
                bps: 2_000,
                balance: 0,
                want: (ChangeKind::Upgrade, 14_500, 9_900, -4_600, 0, 0, 0, 0, 4_600),
            },
            Row {
                name: "business to pro waits for the period end",
                current: cur(2, 9_900, Month, dec1, dec31),
                target: Target { rank: 1, amount: 2_900, interval: Month },
                now: at(16, 0),
                bps: 2_000,
                balance: 0,
                want: (ChangeKind::Downgrade, 0, 0, 0, 0, 0, 0, 0, 0),
            },
            Row {
                name: "the plan already held",
                current: cur(1, 2_900, Month, dec1, dec31),
                target: Target { rank: 1, amount: 2_900, interval: Month },
                now: at(16, 0),
                bps: 2_000,
                balance: 0,
                want: (ChangeKind::Same, 0, 0, 0, 0, 0, 0, 0, 0),
            },
        ];
        for r in rows {
            let q = quote(r.now, &r.current, &r.target, r.bps, r.balance);
            let got = (
                q.kind,
                q.credit,
                q.charge,
                q.subtotal,
                q.tax,
                q.total,
                q.credit_applied,
                q.amount_due,
                q.credit_balance_after,
            );
            assert_eq!(got, r.want, "{}", r.name);
        }
    }

    #[test]
    fn a_downgrade_takes_effect_at_the_period_end_and_periods_follow_the_calendar() {
        let q = quote(
            at(16, 0),
            &Current {
                rank: 2,
                amount: 9_900,
                interval: Month,
                period_start: at(1, 0),
                period_end: at(31, 0),
            },
            &Target { rank: 1, amount: 2_900, interval: Month },
            0,
            0,
        );
        assert_eq!(q.effective_at, at(31, 0));
        assert_eq!(q.period_end, Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap());
        let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(period_end(jan31, Month), Utc.with_ymd_and_hms(2027, 2, 28, 0, 0, 0).unwrap());
        assert_eq!(period_end(jan31, Year), Utc.with_ymd_and_hms(2028, 1, 31, 0, 0, 0).unwrap());
    }

    #[test]
    fn prorate_and_tax_round_half_up_and_never_go_negative() {
        assert_eq!(prorate(1, 1, 2), 1); // 0.5 → 1
        assert_eq!(prorate(1, 1, 3), 0); // 0.33 → 0
        assert_eq!(prorate(100, -5, 10), 0);
        assert_eq!(prorate(100, 50, 10), 100);
        assert_eq!(tax(-100, 2_000), 0);
        assert_eq!(tax(25, 2_000), 5);
        assert_eq!(tax(1, 5_000), 1); // 0.5 → 1
    }
}
