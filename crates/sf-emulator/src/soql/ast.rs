//! The parsed query, before it is checked against the schema.

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// `Account.Owner.Email` is ["Account", "Owner", "Email"].
    pub parts: Vec<String>,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Field(Path),
    /// `COUNT()`
    CountAll,
    /// `COUNT(field) [alias]`
    Count(Path, Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(String),
    DateTime(String),
    /// `TODAY`, `LAST_N_DAYS:30`, …
    DateLiteral(String, Option<i64>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a AND b AND c` as one list: a generated chain of thousands of
    /// conditions stays one level deep.
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        path: Path,
        op: &'static str,
        value: Literal,
        value_pos: usize,
    },
    Like {
        path: Path,
        pattern: String,
    },
    In {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
        value_pos: usize,
    },
    Includes {
        path: Path,
        negated: bool,
        values: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub path: Path,
    pub desc: bool,
    pub nulls_last: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: String,
    pub from_pos: usize,
    pub where_: Option<Cond>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}
