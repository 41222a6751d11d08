//! A query's rows for the SOQL console: page by page as they arrive, each
//! row as the select list's columns (parents flattened, `Account.Name`).

use crate::Studio;
use crate::error::{Error, Result};
use crate::export::{RawPage, Shape, columns_of, raw_lookup, shape};
use futures::StreamExt;
use serde::Serialize;
use std::time::Instant;

/// One page of rows. `columns` comes with the first page that has rows.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GridPage {
    pub columns: Option<Vec<String>>,
    /// Cells as text; null is empty.
    pub rows: Vec<Vec<String>>,
    /// How many rows the query matches in all.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub total_size: u64,
}

/// How a finished query went.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QuerySummary {
    /// Rows received (for `COUNT()`, the count).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub rows: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub millis: u64,
    /// Pages handed over. The desktop app's channel can deliver the last of
    /// them after the command returns, so the screen waits for this many.
    pub pages: u32,
}

impl Studio {
    /// Runs a query and hands each page to `on_page` as it arrives (the next
    /// page is fetched meanwhile). `all` includes deleted and archived rows.
    /// The console shows one query: starting one stops the one before it
    /// (no more pages fetched for rows nobody will see); the stopped one
    /// answers `Error::Superseded`.
    pub async fn query_grid(
        &self,
        connection: &str,
        soql: &str,
        all: bool,
        mut on_page: impl FnMut(GridPage) + Send,
    ) -> Result<QuerySummary> {
        let started = Instant::now();
        let stop = crate::runs::Cancel::new();
        if let Some(before) = self
            .console_query
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(stop.clone())
        {
            before.cancel();
        }
        let stop = &stop;
        let (rows, pages) = self
            .with_client(connection, |client| async move {
                let mut columns = match shape(soql) {
                    Shape::Count => {
                        let page = client.query_page(soql, all).await?;
                        on_page(GridPage {
                            columns: Some(vec!["COUNT()".into()]),
                            rows: vec![vec![page.total_size.to_string()]],
                            total_size: page.total_size,
                        });
                        return Ok((page.total_size, 1));
                    }
                    Shape::Columns(c) => Some(c),
                    Shape::FirstRow => None,
                };
                let mut sent_columns = false;
                let mut count = 0u64;
                let mut sent_pages = 0u32;
                let mut pages = std::pin::pin!(client.query_pages(soql, all));
                loop {
                    let next = tokio::select! {
                        next = pages.next() => next,
                        _ = stop.cancelled() => return Err(Error::Superseded),
                    };
                    let Some(body) = next else { break };
                    let body = body?;
                    let page: RawPage<'_> = serde_json::from_slice(&body)?;
                    let mut rows = Vec::with_capacity(page.records.len());
                    for record in &page.records {
                        let (columns, _) = columns_of(&mut columns, record)?;
                        let mut cells = Vec::with_capacity(columns.len());
                        for c in columns {
                            cells.push(raw_lookup(record, c)?.unwrap_or_default().into_owned());
                        }
                        rows.push(cells);
                    }
                    count += rows.len() as u64;
                    let first = !sent_columns && columns.is_some();
                    sent_columns |= first;
                    on_page(GridPage {
                        columns: if first { columns.clone() } else { None },
                        rows,
                        total_size: page.total_size,
                    });
                    sent_pages += 1;
                }
                Ok((count, sent_pages))
            })
            .await?;
        Ok(QuerySummary {
            rows,
            pages,
            millis: started.elapsed().as_millis() as u64,
        })
    }
}
