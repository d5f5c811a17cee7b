//! The order in which an instance claims due work of many tenants: each free slot goes to
//! the waiting tenant holding the fewest here, so one tenant's backlog never starves another.
//! Used by the job workers and the workflow engine's queue alike.

use std::collections::HashMap;

use uuid::Uuid;

/// Which of the due jobs `candidates` (id, tenant; oldest first) this instance claims with
/// `free` slots, given the jobs it already has per tenant (`active`) and its `workers`.
///
/// Each step gives a slot to the waiting tenant with the fewest runs here (ties: the one
/// whose run waits longest). While more than one tenant waits, none goes beyond its share,
/// `ceil(workers / waiting tenants)`; slots no one else waits for go to whoever still has
/// runs, so the pool is never left idle for fairness' sake.
pub fn fair_pick(
    candidates: &[(Uuid, Uuid)],
    active: &HashMap<Uuid, usize>,
    workers: usize,
    free: usize,
) -> Vec<Uuid> {
    // Per tenant, in the order its oldest run appears: its runs, oldest first.
    let mut order: Vec<Uuid> = Vec::new();
    let mut queues: HashMap<Uuid, std::collections::VecDeque<Uuid>> = HashMap::new();
    for (id, tenant) in candidates {
        queues
            .entry(*tenant)
            .or_insert_with(|| {
                order.push(*tenant);
                Default::default()
            })
            .push_back(*id);
    }
    if order.is_empty() {
        return Vec::new();
    }
    let share = workers.div_ceil(order.len()).max(1);
    let mut held: HashMap<Uuid, usize> =
        order.iter().map(|t| (*t, active.get(t).copied().unwrap_or(0))).collect();
    let mut picked = Vec::with_capacity(free);
    for capped in [true, false] {
        while picked.len() < free {
            let next = order
                .iter()
                .filter(|t| !queues[*t].is_empty())
                .filter(|t| !capped || held[*t] < share)
                .min_by_key(|t| held[*t]);
            let Some(&tenant) = next else { break };
            picked.push(queues.get_mut(&tenant).and_then(|q| q.pop_front()).expect("non-empty queue"));
            *held.get_mut(&tenant).expect("known tenant") += 1;
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// `count` due runs of `tenant`, numbered from `first`.
    fn runs(tenant: Uuid, first: u128, count: u128) -> Vec<(Uuid, Uuid)> {
        (first..first + count).map(|i| (ids(i), tenant)).collect()
    }

    fn tenant_of(picked: &[Uuid], candidates: &[(Uuid, Uuid)], tenant: Uuid) -> usize {
        picked.iter().filter(|id| candidates.iter().any(|(c, t)| c == *id && *t == tenant)).count()
    }

    #[test]
    fn a_tenant_alone_may_use_every_free_worker() {
        let a = ids(1_000);
        let c = runs(a, 1, 10);
        let picked = fair_pick(&c, &HashMap::new(), 4, 4);
        assert_eq!(picked, vec![ids(1), ids(2), ids(3), ids(4)], "oldest first");
    }

    #[test]
    fn a_waiting_tenant_gets_the_next_free_worker_whatever_the_others_backlog() {
        let (a, b) = (ids(1_000), ids(2_000));
        // A's backlog is older than B's one run; A already holds 3 of 4 workers here.
        let mut c = runs(a, 1, 50);
        c.extend(runs(b, 100, 1));
        let active = HashMap::from([(a, 3)]);
        assert_eq!(fair_pick(&c, &active, 4, 1), vec![ids(100)]);
    }

    #[test]
    fn while_others_wait_no_tenant_goes_beyond_its_share() {
        let (a, b, c_) = (ids(1_000), ids(2_000), ids(3_000));
        let mut c = runs(a, 1, 20);
        c.extend(runs(b, 100, 20));
        c.extend(runs(c_, 200, 20));
        // 16 workers, 3 waiting tenants: a share of 6, so 6 + 6 + 4 of 16 free slots.
        let picked = fair_pick(&c, &HashMap::new(), 16, 16);
        assert_eq!(picked.len(), 16);
        for t in [a, b, c_] {
            let n = tenant_of(&picked, &c, t);
            assert!((5..=6).contains(&n), "{n} slots for one tenant");
        }
        // One that already holds its share gets nothing while the others wait.
        let active = HashMap::from([(a, 6)]);
        let picked = fair_pick(&c, &active, 16, 10);
        assert_eq!(tenant_of(&picked, &c, a), 0);
        assert_eq!(picked.len(), 10);
    }

    #[test]
    fn slots_nobody_else_waits_for_are_not_left_idle() {
        let (a, b) = (ids(1_000), ids(2_000));
        let mut c = runs(a, 1, 10);
        c.extend(runs(b, 100, 1));
        // Share 2, but B has only one run waiting: A takes the rest.
        let picked = fair_pick(&c, &HashMap::new(), 4, 4);
        assert_eq!(picked.len(), 4);
        assert_eq!(tenant_of(&picked, &c, b), 1);
        assert_eq!(tenant_of(&picked, &c, a), 3);
        assert!(fair_pick(&[], &HashMap::new(), 4, 4).is_empty());
    }
}
