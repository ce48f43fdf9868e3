//! SCRI `ModelList` → Anthropic's `GET /v1/models` page: `{data: [{type: "model", id,
//! display_name, created_at}], has_more, first_id, last_id}`, paged by `after_id` /
//! `before_id` / `limit` as Anthropic pages (default 20, at most 1000). Ids are Aratta's
//! `provider:model` form, then the aliases, so any listed id can be sent back as `model`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::scri::ModelList;

/// The paging query of `GET /v1/models`.
#[derive(Debug, Default, Deserialize)]
pub struct ModelsQuery {
    /// Return the page after this id.
    #[serde(default)]
    pub after_id: Option<String>,
    /// Return the page before this id.
    #[serde(default)]
    pub before_id: Option<String>,
    /// Page size, 1 to 1000 (default 20).
    #[serde(default)]
    pub limit: Option<usize>,
}

fn all(list: &ModelList) -> Vec<Value> {
    let mut all: Vec<Value> = list
        .models
        .iter()
        .map(|m| entry(&m.id, &m.model, m.created.unwrap_or(0)))
        .collect();
    for alias in list.aliases.keys() {
        if !list.models.iter().any(|m| &m.id == alias) {
            all.push(entry(alias, alias, 0));
        }
    }
    all
}

/// One model (`GET /v1/models/{model_id}`), when it is listed.
pub fn model(list: &ModelList, id: &str) -> Option<Value> {
    all(list).into_iter().find(|m| m["id"] == id)
}

/// One page of models in Anthropic's shape.
pub fn models_page(list: &ModelList, query: &ModelsQuery) -> Value {
    let all = all(list);
    let limit = query.limit.unwrap_or(20).clamp(1, 1000);
    let position = |id: &str| all.iter().position(|m| m["id"] == id);
    let (start, end) = match (&query.after_id, &query.before_id) {
        (_, Some(before)) => {
            let end = position(before).unwrap_or(0);
            (end.saturating_sub(limit), end)
        }
        (Some(after), None) => {
            let start = position(after).map_or(all.len(), |p| p + 1);
            (start, (start + limit).min(all.len()))
        }
        (None, None) => (0, limit.min(all.len())),
    };
    let has_more = if query.before_id.is_some() {
        start > 0
    } else {
        end < all.len()
    };
    let data = all[start..end].to_vec();
    json!({
        "data": data,
        "has_more": has_more,
        "first_id": data.first().map(|m| m["id"].clone()),
        "last_id": data.last().map(|m| m["id"].clone()),
    })
}

fn entry(id: &str, display_name: &str, created: u64) -> Value {
    json!({
        "type": "model",
        "id": id,
        "display_name": display_name,
        "created_at": rfc3339(created),
        "lifecycle": "active",
    })
}

/// Unix seconds as an RFC 3339 UTC timestamp (days to civil date after Howard Hinnant's
/// `civil_from_days`; Anthropic's `created_at` is such a string, and a dependency for one
/// conversion would be heavier than these lines).
pub(crate) fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}
