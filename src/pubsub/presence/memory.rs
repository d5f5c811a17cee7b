//! Presence of the embedded default: rooms in this process's memory.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Utc};

use super::{Expired, Member, PresenceStore};

/// Rooms → members → (value, expiry), behind one lock (every step is a few map operations).
#[derive(Default)]
pub struct MemoryPresence {
    rooms: Mutex<HashMap<String, HashMap<String, (String, DateTime<Utc>)>>>,
}

#[async_trait::async_trait]
impl PresenceStore for MemoryPresence {
    async fn put(
        &self,
        room: &str,
        id: &str,
        value: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, String> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let members = rooms.entry(room.to_string()).or_default();
        let old = members.insert(id.to_string(), (value.to_string(), expires_at));
        Ok(old.is_none_or(|(_, until)| until <= now))
    }

    async fn remove(&self, room: &str, id: &str) -> Result<Option<String>, String> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let Some(members) = rooms.get_mut(room) else { return Ok(None) };
        let gone = members.remove(id).map(|(v, _)| v);
        if members.is_empty() {
            rooms.remove(room);
        }
        Ok(gone)
    }

    async fn members(&self, room: &str, now: DateTime<Utc>) -> Result<Vec<Member>, String> {
        let rooms = self.rooms.lock().expect("presence lock");
        let mut out: Vec<Member> = rooms
            .get(room)
            .map(|m| {
                m.iter()
                    .filter(|(_, (_, until))| *until > now)
                    .map(|(id, (value, _))| Member { id: id.clone(), value: value.clone() })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn expire(&self, now: DateTime<Utc>) -> Result<Vec<Expired>, String> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let mut out = Vec::new();
        for (room, members) in rooms.iter_mut() {
            members.retain(|id, (value, until)| {
                if *until > now {
                    return true;
                }
                out.push(Expired {
                    room: room.clone(),
                    member: Member { id: id.clone(), value: value.clone() },
                });
                false
            });
        }
        rooms.retain(|_, m| !m.is_empty());
        Ok(out)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[tokio::test]
    async fn a_member_joins_once_moves_and_expires_once() {
        let store = MemoryPresence::default();
        let now = Utc::now();
        assert!(store.put("r", "a", "1", now, now + Duration::seconds(30)).await.unwrap(), "a join");
        assert!(!store.put("r", "a", "2", now, now + Duration::seconds(30)).await.unwrap(), "an update");
        assert_eq!(
            store.members("r", now).await.unwrap(),
            vec![Member { id: "a".into(), value: "2".into() }]
        );
        let later = now + Duration::seconds(31);
        assert!(store.members("r", later).await.unwrap().is_empty(), "expired members are not present");
        let gone = store.expire(later).await.unwrap();
        assert_eq!(gone.len(), 1);
        assert!(store.expire(later).await.unwrap().is_empty(), "each expiry is handed out once");
        assert_eq!(store.remove("r", "a").await.unwrap(), None);
    }
}
