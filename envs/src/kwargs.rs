//! Keyword arguments for environment constructors, mirroring what `gymnasium.make(id, **kwargs)`
//! accepts, so configs can pass them through without knowing the environment.

use std::collections::BTreeMap;

/// A keyword-argument value: the Python literals environment constructors take.
#[derive(Clone, Debug, PartialEq)]
pub enum KwargValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Passed to Python as a tuple (e.g. `healthy_z_range=(0.8, 2.0)`).
    List(Vec<KwargValue>),
}

/// Keyword arguments by name (sorted, so their order never changes behaviour).
pub type Kwargs = BTreeMap<String, KwargValue>;

impl KwargValue {
    /// The value as a float if it is numeric (ints widen, bools do not).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            KwargValue::Int(i) => Some(i as f64),
            KwargValue::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The value as a non-negative integer, if it is one.
    pub fn as_usize(&self) -> Option<usize> {
        match *self {
            KwargValue::Int(i) => usize::try_from(i).ok(),
            _ => None,
        }
    }
}

impl From<bool> for KwargValue {
    fn from(v: bool) -> Self {
        KwargValue::Bool(v)
    }
}
impl From<i64> for KwargValue {
    fn from(v: i64) -> Self {
        KwargValue::Int(v)
    }
}
impl From<i32> for KwargValue {
    fn from(v: i32) -> Self {
        KwargValue::Int(v.into())
    }
}
impl From<f64> for KwargValue {
    fn from(v: f64) -> Self {
        KwargValue::Float(v)
    }
}
impl From<&str> for KwargValue {
    fn from(v: &str) -> Self {
        KwargValue::Str(v.to_owned())
    }
}
impl From<String> for KwargValue {
    fn from(v: String) -> Self {
        KwargValue::Str(v)
    }
}
impl<T: Into<KwargValue>> From<Vec<T>> for KwargValue {
    fn from(v: Vec<T>) -> Self {
        KwargValue::List(v.into_iter().map(Into::into).collect())
    }
}

/// Builds [`Kwargs`] from `(name, value)` pairs: `kwargs([("g", 9.81.into())])`.
pub fn kwargs<const N: usize>(pairs: [(&str, KwargValue); N]) -> Kwargs {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
