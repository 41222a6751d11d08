//! What the import wizard shows before a run: the first rows of a file as
//! they will be read (encoding and delimiter found or chosen), and a
//! proposed mapping of its columns to an object's fields, with the fields
//! to choose from. Nothing here writes to the org.

use super::plan::{FieldMeta, MapFile, Operation, Target, auto_match};
use super::source::{DelimiterChoice, EncodingChoice, Source};
use crate::Studio;
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;

/// The first rows of a file as the import will read them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FilePreview {
    /// The encoding used (found, or as chosen), e.g. `UTF-8`, `windows-1252`.
    pub encoding: String,
    /// The delimiter used: comma, semicolon, tab or pipe.
    pub delimiter: DelimiterChoice,
    pub header: Vec<String>,
    pub rows: Vec<PreviewRow>,
    /// Data rows in the whole file (every row read once).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub total_rows: u64,
    /// Rows that cannot be read as one record (ragged, bad quoting).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub unreadable_rows: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PreviewRow {
    /// The row's line in the file (the header is line 1).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub line: u64,
    pub cells: Vec<String>,
    /// Why the row cannot be read, when it cannot.
    pub problem: Option<String>,
}

/// A field the mapping table offers.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldChoice {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
    /// Must be given on insert.
    pub required: bool,
    /// Can be the key of an upsert.
    pub external_id: bool,
    /// For a lookup: the relationship (`Account`) a column may name as
    /// `Account.ERP_Id__c` to find the parent by its external id.
    pub relationship: Option<String>,
    pub references: Vec<String>,
}

/// One CSV column and the field it sets.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ColumnChoice {
    pub header: String,
    /// `Email`, or `Account.ERP_Id__c` for a parent lookup; None when
    /// nothing matches (the wizard flags it).
    pub field: Option<String>,
    /// Matched by name or label rather than by the saved mapping.
    pub auto: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MappingProposal {
    /// The object's API name as the org spells it.
    pub object: String,
    pub columns: Vec<ColumnChoice>,
    /// Fields this operation can set, by label.
    pub fields: Vec<FieldChoice>,
    /// Fields that can key an upsert.
    pub external_ids: Vec<String>,
}

const PREVIEW_ROWS: usize = 20;

pub(crate) fn describe_error(object: &str, e: salesforce::Error) -> Error {
    match e {
        salesforce::Error::Api { status: 404, .. } => Error::Invalid(format!(
            "{object} is not an object of this org; check its API name in Schema"
        )),
        other => other.into(),
    }
}

/// Reads the file's first rows and counts the rest.
pub fn preview_file(
    path: &Path,
    encoding: EncodingChoice,
    delimiter: DelimiterChoice,
) -> Result<FilePreview> {
    let mut source = Source::open(path, encoding, delimiter)?;
    let mut rows = Vec::new();
    let (mut total, mut unreadable) = (0u64, 0u64);
    while let Some(row) = source.next_row() {
        total += 1;
        let shown = rows.len() < PREVIEW_ROWS;
        match row {
            Ok(r) if shown => rows.push(PreviewRow {
                line: r.line,
                cells: r.cells,
                problem: None,
            }),
            Ok(_) => {}
            Err(bad) => {
                unreadable += 1;
                if shown {
                    rows.push(PreviewRow {
                        line: bad.line,
                        cells: bad.cells,
                        problem: Some(bad.reason),
                    });
                }
            }
        }
    }
    let delimiter = match source.detected.delimiter {
        ';' => DelimiterChoice::Semicolon,
        '\t' => DelimiterChoice::Tab,
        '|' => DelimiterChoice::Pipe,
        _ => DelimiterChoice::Comma,
    };
    Ok(FilePreview {
        encoding: source.detected.encoding.to_string(),
        delimiter,
        header: source.header,
        rows,
        total_rows: total,
        unreadable_rows: unreadable,
    })
}

/// Whether a column may go to the field: its value is written, or it is
/// the key that finds the record (Id, or an upsert's external id).
fn settable(f: &FieldMeta, operation: Operation) -> bool {
    let key = match operation {
        Operation::Insert => false,
        Operation::Update | Operation::Delete | Operation::HardDelete => f.name == "Id",
        Operation::Upsert => f.external_id || f.id_lookup,
    };
    key || f.writable_by(operation)
}

fn target_name(fields: &[FieldMeta], t: &Target) -> Option<String> {
    match t {
        Target::Field(i) => Some(fields[*i].name.clone()),
        Target::Lookup {
            relationship,
            parent_field,
            ..
        } => Some(format!("{relationship}.{parent_field}")),
        Target::Skip => None,
    }
}

impl Studio {
    /// The mapping the wizard starts from: `saved` where it names a column
    /// (a loaded mapping file), else the field matched by API name or label.
    pub async fn propose_mapping(
        &self,
        connection: &str,
        object: &str,
        operation: Operation,
        header: &[String],
        saved: Option<&MapFile>,
    ) -> Result<MappingProposal> {
        let (_, client) = self.client(connection).await?;
        let describe = client
            .describe(object)
            .await
            .map_err(|e| describe_error(object, e))?;
        let fields: Vec<FieldMeta> = describe["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(FieldMeta::of)
            .collect();
        let columns = header
            .iter()
            .map(|h| {
                let saved = saved.and_then(|m| {
                    m.columns
                        .iter()
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case(h))
                        .map(|(_, v)| v.clone())
                });
                match saved {
                    Some(field) => ColumnChoice {
                        header: h.clone(),
                        field,
                        auto: false,
                    },
                    None => ColumnChoice {
                        header: h.clone(),
                        field: auto_match(&fields, h)
                            .filter(|t| match t {
                                Target::Field(i) => settable(&fields[*i], operation),
                                _ => true,
                            })
                            .and_then(|t| target_name(&fields, &t)),
                        auto: true,
                    },
                }
            })
            .collect();
        let mut choices: Vec<FieldChoice> = fields
            .iter()
            .filter(|f| settable(f, operation))
            .map(|f| FieldChoice {
                name: f.name.clone(),
                label: f.label.clone(),
                field_type: f.ftype.clone(),
                required: operation == Operation::Insert && f.required(),
                external_id: f.external_id || f.id_lookup,
                relationship: f.relationship.clone(),
                references: f.references.clone(),
            })
            .collect();
        choices.sort_by_key(|f| f.label.to_lowercase());
        let external_ids = fields
            .iter()
            .filter(|f| f.external_id || f.name == "Id")
            .map(|f| f.name.clone())
            .collect();
        Ok(MappingProposal {
            object: describe["name"].as_str().unwrap_or(object).to_string(),
            columns,
            fields: choices,
            external_ids,
        })
    }
}
