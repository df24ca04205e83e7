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

/// Inclusive bounds on `column` implied by the conjunction of `filters`.
pub fn time_bounds_of(filters: &[Expr], column: &str) -> (Option<i64>, Option<i64>) {
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut tighten_lo = |v: i64| lo = Some(lo.map_or(v, |l| l.max(v)));
    let mut tighten_hi = |v: i64| hi = Some(hi.map_or(v, |h| h.min(v)));
    let mut stack: Vec<&Expr> = filters.iter().collect();
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::And,
                right,
            }) => {
                stack.push(left);
                stack.push(right);
            }
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
        let snapshot = self.store.0.snapshot(self.signal, lo, hi);
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
    }
}
