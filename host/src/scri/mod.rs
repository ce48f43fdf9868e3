//! SCRI over HTTP: the JSON types of Aratta's own API. They mirror the WIT contract in
//! `wit/`; `convert` maps them to and from the component bindings.

mod chat;
pub mod convert;
mod embed;
mod error;
pub mod float;
mod lineage;
mod stream;

pub use chat::*;
pub use embed::*;
pub use error::*;
pub use lineage::*;
pub use stream::*;
