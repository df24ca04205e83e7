//! DataFusion table over one signal: the Parquet files that overlap the query's time range
//! (pruned by file name, then by row-group statistics and bloom filters) unioned with the
//! memtable.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::catalog::memory::MemTable;
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use model::Signal;

use crate::{Store, schema};

/// The `spans`, `logs` or `metric_points` table of a [`Store`].
#[derive(Debug)]
pub struct SignalTable {
    signal: Signal,
    schema: SchemaRef,
    store: Arc<StoreHandle>,
}

/// Debug-printable holder of the store for DataFusion.
pub struct StoreHandle(pub Arc<Store>);

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl SignalTable {
    pub fn new(signal: Signal, store: Arc<Store>) -> Self {
        SignalTable {
            signal,
            schema: schema::schema(signal),
            store: Arc::new(StoreHandle(store)),
        }
    }
}

fn literal_i64(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
        Expr::Literal(ScalarValue::Int32(Some(v)), _) => Some(i64::from(*v)),
        Expr::Literal(ScalarValue::UInt64(Some(v)), _) => i64::try_from(*v).ok(),
        Expr::Cast(c) => literal_i64(&c.expr),
        Expr::TryCast(c) => literal_i64(&c.expr),
        _ => None,
    }
}

fn is_column(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Column(c) => c.name == name,
        Expr::Cast(c) => is_column(&c.expr, name),
        _ => false,
    }
}

fn literal_str(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(ScalarValue::Utf8(Some(v)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(v)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(v)), _) => Some(v),
        Expr::Cast(c) => literal_str(&c.expr),
        _ => None,
    }
}

/// The trace ids a row must have under the conjunction of `filters` (`trace_id = '…'` or
/// `trace_id IN (…)`), if they say.
pub fn trace_ids_of(filters: &[Expr]) -> Option<Vec<String>> {
    conjuncts(filters).into_iter().find_map(|e| match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let value = if is_column(left, "trace_id") {
                literal_str(right)
            } else if is_column(right, "trace_id") {
                literal_str(left)
            } else {
                None
            };
            value.map(|v| vec![v.to_string()])
        }
        Expr::InList(l) if !l.negated && is_column(&l.expr, "trace_id") => l
            .list
            .iter()
            .map(|e| literal_str(e).map(str::to_string))
            .collect(),
        _ => None,
    })
}

/// The terms of the conjunction of `filters`, with nested ANDs flattened.
fn conjuncts(filters: &[Expr]) -> Vec<&Expr> {
    flatten(filters.iter().collect(), Operator::And)
}

/// The terms of `exprs` joined by `op`, with nested `op`s flattened.
fn flatten(mut stack: Vec<&Expr>, op: Operator) -> Vec<&Expr> {
    let mut out = Vec::new();
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: joined,
                right,
            }) if *joined == op => {
                stack.push(left);
                stack.push(right);
            }
            e => out.push(e),
        }
    }
    out
}

/// Inclusive bounds on `column` implied by the conjunction of `filters`.
pub fn time_bounds_of(filters: &[Expr], column: &str) -> (Option<i64>, Option<i64>) {
    bounds_of(conjuncts(filters), column)
}

/// Time ranges a row must fall in one of: for each `OR` among the conjunction of `filters`
/// whose every branch bounds `column` (`(t >= 1 AND t < 5) OR (t >= 9 AND t < 12)`), the
/// inclusive bounds of its branches. A query over the edges of a window names only them, and
/// the files between them need not be opened.
pub fn time_unions_of(filters: &[Expr], column: &str) -> Vec<Vec<(Option<i64>, Option<i64>)>> {
    let mut unions = Vec::new();
    for e in conjuncts(filters) {
        if !matches!(
            e,
            Expr::BinaryExpr(BinaryExpr {
                op: Operator::Or,
                ..
            })
        ) {
            continue;
        }
        let ranges: Vec<_> = flatten(vec![e], Operator::Or)
            .into_iter()
            .map(|branch| bounds_of(flatten(vec![branch], Operator::And), column))
            .collect();
        if ranges.iter().all(|r| *r != (None, None)) {
            unions.push(ranges);
        }
    }
    unions
}

fn bounds_of(terms: Vec<&Expr>, column: &str) -> (Option<i64>, Option<i64>) {
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut tighten_lo = |v: i64| lo = Some(lo.map_or(v, |l| l.max(v)));
    let mut tighten_hi = |v: i64| hi = Some(hi.map_or(v, |h| h.min(v)));
    for e in terms {
        match e {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (op, v) = if is_column(left, column) {
                    match literal_i64(right) {
                        Some(v) => (*op, v),
                        None => continue,
                    }
                } else if is_column(right, column) {
                    match (literal_i64(left), op.swap()) {
                        (Some(v), Some(op)) => (op, v),
                        _ => continue,
                    }
                } else {
                    continue;
                };
                match op {
                    Operator::Gt => tighten_lo(v.saturating_add(1)),
                    Operator::GtEq => tighten_lo(v),
                    Operator::Lt => tighten_hi(v.saturating_sub(1)),
                    Operator::LtEq => tighten_hi(v),
                    Operator::Eq => {
                        tighten_lo(v);
                        tighten_hi(v);
                    }
                    _ => {}
                }
            }
            Expr::Between(b) if !b.negated && is_column(&b.expr, column) => {
                if let Some(v) = literal_i64(&b.low) {
                    tighten_lo(v);
                }
                if let Some(v) = literal_i64(&b.high) {
                    tighten_hi(v);
                }
            }
            _ => {}
        }
    }
    (lo, hi)
}

#[async_trait]
impl TableProvider for SignalTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let (lo, hi) = time_bounds_of(filters, self.signal.time_column());
        let mut snapshot = self.store.0.snapshot(self.signal, lo, hi);
        for union in time_unions_of(filters, self.signal.time_column()) {
            snapshot.files.retain(|f| {
                union.iter().any(|&(lo, hi)| {
                    lo.is_none_or(|lo| f.max_time >= lo) && hi.is_none_or(|hi| f.min_time <= hi)
                })
            });
        }
        // A lookup by trace id opens only the files whose filter may hold one of the ids.
        if let Some(ids) = trace_ids_of(filters) {
            snapshot.files.retain(|f| {
                f.trace_filter
                    .as_ref()
                    .is_none_or(|tf| ids.iter().any(|id| tf.may_contain(id)))
            });
        }
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if !snapshot.files.is_empty() {
            let mut urls = Vec::with_capacity(snapshot.files.len());
            for f in &snapshot.files {
                urls.push(ListingTableUrl::parse(f.path.to_string_lossy())?);
            }
            let options =
                ListingOptions::new(Arc::new(ParquetFormat::default().with_enable_pruning(true)))
                    .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(Arc::clone(&self.schema));
            let table = ListingTable::try_new(config)?;
            inputs.push(table.scan(state, projection, filters, limit).await?);
        }
        if !snapshot.mem.is_empty() {
            let mem = MemTable::try_new(Arc::clone(&self.schema), vec![snapshot.mem])?;
            inputs.push(mem.scan(state, projection, filters, limit).await?);
        }
        if inputs.is_empty() {
            let projected = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        UnionExec::try_new(inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn bounds_from_filters() {
        let c = "time_unix_nano";
        let f = vec![
            col(c).gt_eq(lit(10i64)).and(col(c).lt(lit(20i64))),
            col("x").eq(lit(1)),
        ];
        assert_eq!(time_bounds_of(&f, c), (Some(10), Some(19)));
        let f = vec![lit(5i64).lt(col(c))];
        assert_eq!(time_bounds_of(&f, c), (Some(6), None));
        let f = vec![col(c).between(lit(1i64), lit(3i64))];
        assert_eq!(time_bounds_of(&f, c), (Some(1), Some(3)));
        let f = vec![col(c).gt(lit(1i64)).or(col(c).lt(lit(0i64)))];
        assert_eq!(time_bounds_of(&f, c), (None, None));
        // ... but each branch of that OR bounds the time: a union of two ranges.
        assert_eq!(
            time_unions_of(&f, c),
            vec![vec![(None, Some(-1)), (Some(2), None)]]
        );
    }

    #[test]
    fn unions_of_ranges_from_filters() {
        let c = "time_unix_nano";
        let range = |a: i64, b: i64| col(c).gt_eq(lit(a)).and(col(c).lt(lit(b)));
        let f = vec![
            col(c).gt_eq(lit(0i64)),
            range(10, 20).or(range(30, 40)).or(range(50, 60)),
            col("service_name").eq(lit("a")),
        ];
        let mut union = time_unions_of(&f, c).pop().expect("one union");
        union.sort();
        assert_eq!(
            union,
            vec![
                (Some(10), Some(19)),
                (Some(30), Some(39)),
                (Some(50), Some(59))
            ]
        );
        // A branch without a time bound: no union to prune by.
        let f = vec![range(10, 20).or(col("service_name").eq(lit("a")))];
        assert!(time_unions_of(&f, c).is_empty());
        // Other conjuncts: none.
        assert!(time_unions_of(&[range(10, 20)], c).is_empty());
    }

    #[test]
    fn trace_ids_from_filters() {
        let t = "trace_id";
        let f = vec![col(t).eq(lit("ab")).and(col("x").eq(lit(1)))];
        assert_eq!(trace_ids_of(&f), Some(vec!["ab".to_string()]));
        let f = vec![
            col("x").eq(lit(1)),
            col(t).in_list(vec![lit("a"), lit("b")], false),
        ];
        assert_eq!(
            trace_ids_of(&f),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(trace_ids_of(&[col(t).in_list(vec![lit("a")], true)]), None);
        assert_eq!(
            trace_ids_of(&[col(t).eq(lit("a")).or(col(t).eq(lit("b")))]),
            None
        );
        assert_eq!(trace_ids_of(&[col("span_id").eq(lit("a"))]), None);
    }
}

#[cfg(test)]
mod lookup_tests {
    use std::sync::Arc;

    use arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;
    use model::{Signal, SpanRow};

    use super::SignalTable;
    use crate::{Store, StoreConfig};

    fn span(trace: &str, t: i64) -> SpanRow {
        SpanRow {
            trace_id: trace.to_string(),
            span_id: format!("{t:016x}"),
            start_time_unix_nano: t,
            ..SpanRow::default()
        }
    }

    #[tokio::test]
    async fn a_trace_lookup_opens_only_the_files_that_may_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(StoreConfig::new(dir.path())).unwrap());
        let ids: Vec<String> = (1..=4u64).map(|i| format!("{:032x}", i * 7919)).collect();
        for (i, id) in ids.iter().enumerate() {
            let t = 1_000_000_000 * (i as i64 + 1);
            store
                .append(model::Batch::Spans(vec![span(id, t), span(id, t + 1)]))
                .await
                .unwrap();
            store.flush().await.unwrap();
        }
        let ctx = spans_context(&store);
        let query = format!("SELECT span_id FROM spans WHERE trace_id = '{}'", ids[2]);
        let rows = rows_of(&ctx, &query).await;
        assert_eq!(rows, 2);
        let plan = plan_of(&ctx, &query).await;
        assert_eq!(plan.matches(".parquet").count(), 1, "{plan}");
        let unknown = format!("SELECT span_id FROM spans WHERE trace_id = '{:032x}'", 5u64);
        let plan = plan_of(&ctx, &unknown).await;
        assert!(!plan.contains(".parquet"), "{plan}");

        // The filters come back after a restart, and go with their files.
        drop(ctx);
        let store = Arc::try_unwrap(store).ok().unwrap();
        drop(store);
        let reopened = Store::open(StoreConfig::new(dir.path())).unwrap();
        let snap = reopened.snapshot(Signal::Spans, None, None);
        assert_eq!(snap.files.len(), 4);
        assert!(snap.files.iter().all(|f| f.trace_filter.is_some()));
        let sidecars = walk(dir.path(), ".tids");
        assert_eq!(sidecars, 4);
    }

    #[tokio::test]
    async fn a_query_over_the_edges_of_a_window_opens_only_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(StoreConfig::new(dir.path())).unwrap());
        // Five files, a second apart.
        for i in 1..=5i64 {
            let t = 1_000_000_000 * i;
            let id = format!("{:032x}", i);
            store
                .append(model::Batch::Spans(vec![span(&id, t), span(&id, t + 1)]))
                .await
                .unwrap();
            store.flush().await.unwrap();
        }
        let ctx = spans_context(&store);
        let t = "start_time_unix_nano";
        // The outer bounds cover all five files; the branches only the first and the fourth.
        let query = format!(
            "SELECT span_id FROM spans WHERE {t} >= 0 AND {t} < 6000000000 AND \
             (({t} >= 1000000000 AND {t} < 1500000000) OR ({t} >= 4000000001 AND {t} < 4500000000))"
        );
        let rows = rows_of(&ctx, &query).await;
        assert_eq!(rows, 3);
        let plan = plan_of(&ctx, &query).await;
        assert_eq!(plan.matches(".parquet").count(), 2, "{plan}");
    }

    fn spans_context(store: &Arc<Store>) -> SessionContext {
        let ctx = SessionContext::new();
        ctx.register_table(
            "spans",
            Arc::new(SignalTable::new(Signal::Spans, Arc::clone(store))),
        )
        .unwrap();
        ctx
    }

    async fn rows_of(ctx: &SessionContext, query: &str) -> usize {
        let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
        batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The physical plan as text: the files it reads are named in it.
    async fn plan_of(ctx: &SessionContext, query: &str) -> String {
        let explain = format!("EXPLAIN {query}");
        let plan = ctx.sql(&explain).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&plan).unwrap().to_string()
    }

    fn walk(dir: &std::path::Path, suffix: &str) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, suffix)
                } else {
                    usize::from(p.to_string_lossy().ends_with(suffix))
                }
            })
            .sum()
    }
}
