//! Immutable Parquet files, one directory per signal and hour.
//!
//! Path: `<data>/<table>/<YYYY-MM-DDTHH>/<min_ns>_<max_ns>_<rows>_<seq>[c].parquet`. The name
//! carries what pruning needs, so opening the store reads no footers. A trailing `c` marks a
//! compacted file whose footer lists the files it replaces (`redscope.replaces`).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::{Int64Type, SchemaRef};
use model::Signal;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::tid::{self, TraceFilter};
use crate::{StorageError, schema};

/// Format version written into every file's footer.
pub const FORMAT_VERSION: &str = "1";
pub(crate) const HOUR_NS: i64 = 3_600_000_000_000;

/// One stored file, as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: PathBuf,
    pub signal: Signal,
    pub hour: i64,
    pub min_time: i64,
    pub max_time: i64,
    pub rows: u64,
    pub bytes: u64,
    pub seq: u64,
    pub compacted: bool,
    /// When the file was written: no row of it was acknowledged later (retention's grace).
    pub written: std::time::SystemTime,
    /// The trace ids the file may hold (span and log files with an intact sidecar).
    pub trace_filter: Option<Arc<TraceFilter>>,
}

pub fn hour_dir_name(hour: i64) -> String {
    chrono::DateTime::from_timestamp(hour * 3600, 0)
        .map(|t| t.format("%Y-%m-%dT%H").to_string())
        .unwrap_or_else(|| format!("h{hour}"))
}

fn parse_hour_dir(name: &str) -> Option<i64> {
    if let Some(h) = name.strip_prefix('h') {
        return h.parse().ok();
    }
    let t = chrono::NaiveDateTime::parse_from_str(&format!("{name}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()?;
    Some(t.and_utc().timestamp() / 3600)
}

fn parse_file_name(name: &str) -> Option<(i64, i64, u64, u64, bool)> {
    let stem = name.strip_suffix(".parquet")?;
    let (stem, compacted) = match stem.strip_suffix('c') {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let mut parts = stem.split('_');
    let min = parts.next()?.parse().ok()?;
    let max = parts.next()?.parse().ok()?;
    let rows = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some((min, max, rows, seq, compacted))
}

/// Lists the files of a signal. Leftover temporary files are removed.
pub fn scan_dir(root: &Path, signal: Signal) -> Result<Vec<FileEntry>, StorageError> {
    let dir = root.join(signal.table_name());
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for hour_entry in fs::read_dir(&dir)? {
        let hour_entry = hour_entry?;
        let Some(hour) = parse_hour_dir(&hour_entry.file_name().to_string_lossy()) else {
            continue;
        };
        for f in fs::read_dir(hour_entry.path())? {
            let f = f?;
            let name = f.file_name().to_string_lossy().to_string();
            if name.ends_with(".tmp") {
                let _ = fs::remove_file(f.path());
                continue;
            }
            if let Some(parquet) = name.strip_suffix(".tids") {
                // A filter whose file is gone (deleted, or never completed).
                if !hour_entry.path().join(parquet).exists() {
                    let _ = fs::remove_file(f.path());
                }
                continue;
            }
            if let Some((min_time, max_time, rows, seq, compacted)) = parse_file_name(&name) {
                let meta = f.metadata()?;
                out.push(FileEntry {
                    path: f.path(),
                    signal,
                    hour,
                    min_time,
                    max_time,
                    rows,
                    bytes: meta.len(),
                    seq,
                    compacted,
                    written: meta
                        .modified()
                        .unwrap_or_else(|_| std::time::SystemTime::now()),
                    trace_filter: has_trace_ids(signal)
                        .then(|| tid::read(&f.path()).map(Arc::new))
                        .flatten(),
                });
            }
        }
    }
    out.sort_by_key(|e| (e.min_time, e.seq));
    Ok(out)
}

/// Footer key of flushed files: `<wal cutoff>:<files written by that flush>`.
const FLUSH_KEY: &str = "redscope.flush";

/// The values of a key in a file's footer metadata.
fn footer_values(path: &Path, key: &str) -> Result<Vec<String>, StorageError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?;
    Ok(builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|kv| kv.key == key)
        .filter_map(|kv| kv.value.clone())
        .collect())
}

/// The flush a file was written by, from its footer: (WAL cutoff, files of that flush).
pub fn flush_of(path: &Path) -> Result<Option<(u64, usize)>, StorageError> {
    Ok(footer_values(path, FLUSH_KEY)?.iter().find_map(|v| {
        let (c, n) = v.split_once(':')?;
        Some((c.parse().ok()?, n.parse().ok()?))
    }))
}

/// Names listed in a compacted file's footer as replaced by it.
pub fn replaced_by(path: &Path) -> Result<Vec<String>, StorageError> {
    Ok(footer_values(path, "redscope.replaces")?
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// Takes the files in `paths` out of the catalog and off the disk (with their sidecars).
pub(crate) fn remove_from(files: &mut Vec<FileEntry>, paths: &std::collections::HashSet<PathBuf>) {
    files.retain(|f| {
        let gone = paths.contains(&f.path);
        if gone {
            let _ = tid::remove_with_sidecar(&f.path);
        }
        !gone
    });
}

fn writer_properties(
    signal: Signal,
    replaces: &[String],
    flush: Option<(u64, usize)>,
) -> WriterProperties {
    let sort_cols: Vec<SortingColumn> = ["service_name", signal.time_column()]
        .iter()
        .filter_map(|c| schema::schema(signal).index_of(c).ok())
        .map(|i| SortingColumn {
            column_idx: i32::try_from(i).unwrap_or(0),
            descending: false,
            nulls_first: false,
        })
        .collect();
    let mut kv = vec![KeyValue::new(
        "redscope.format_version".to_string(),
        FORMAT_VERSION.to_string(),
    )];
    if !replaces.is_empty() {
        kv.push(KeyValue::new(
            "redscope.replaces".to_string(),
            replaces.join(","),
        ));
    }
    if let Some((cutoff, files)) = flush {
        kv.push(KeyValue::new(
            FLUSH_KEY.to_string(),
            format!("{cutoff}:{files}"),
        ));
    }
    // A flush sits on the ingest path and its files are usually merged again later: it uses
    // zstd's fastest level, compaction a tighter one.
    let level = if replaces.is_empty() { 1 } else { 3 };
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(level).unwrap_or_default(),
        ))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(65_536))
        // Rows are sorted by service: pages of a few thousand rows let the page index skip
        // the other services' rows (parquet's default of 20,000 rows per page is coarse for
        // dictionary-encoded columns, whose pages never reach the byte limit).
        .set_data_page_row_count_limit(4096)
        .set_sorting_columns(Some(sort_cols))
        .set_key_value_metadata(Some(kv));
    if signal != Signal::Metrics {
        builder = builder
            .set_column_bloom_filter_enabled(ColumnPath::from("trace_id"), true)
            .set_column_bloom_filter_fpp(ColumnPath::from("trace_id"), 0.01);
    }
    // Long free text compresses better without dictionaries, and ids are mostly distinct.
    for col in FREE_TEXT_COLUMNS
        .iter()
        .chain(&["trace_id", "span_id", "parent_span_id"])
    {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*col), false);
    }
    // Minimum and maximum of free text and JSON prune nothing, and computing them compares
    // every value twice per page: no statistics for these columns (nor for templates, which
    // are filtered by id).
    for col in FREE_TEXT_COLUMNS.iter().chain(&["log_template"]) {
        builder =
            builder.set_column_statistics_enabled(ColumnPath::from(*col), EnabledStatistics::None);
    }
    builder.build()
}

/// Columns of free text and JSON, in any table.
const FREE_TEXT_COLUMNS: [&str; 7] = [
    "attributes",
    "resource_attributes",
    "events",
    "links",
    "body",
    "db_query_text",
    "exemplars",
];

/// Sorts rows by service, then time.
pub fn sort_batch(signal: Signal, batch: &RecordBatch) -> Result<RecordBatch, StorageError> {
    let columns: Vec<SortColumn> = ["service_name", signal.time_column()]
        .iter()
        .filter_map(|c| batch.column_by_name(c))
        .map(|c| SortColumn {
            values: c.clone(),
            options: None,
        })
        .collect();
    let indices = lexsort_to_indices(&columns, None)?;
    Ok(take_record_batch(batch, &indices)?)
}

/// Several batches as one, sorted like [`sort_batch`]: only the sort columns are concatenated,
/// the rows are gathered from where they are (one copy of the data instead of two).
pub fn sort_batches(
    signal: Signal,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<RecordBatch, StorageError> {
    if batches.len() == 1 {
        return sort_batch(signal, &batches[0]);
    }
    let mut columns = Vec::with_capacity(2);
    for name in ["service_name", signal.time_column()] {
        let parts: Vec<&dyn Array> = batches
            .iter()
            .filter_map(|b| b.column_by_name(name).map(|c| c.as_ref()))
            .collect();
        if parts.len() == batches.len() {
            columns.push(SortColumn {
                values: arrow::compute::concat(&parts)?,
                options: None,
            });
        }
    }
    let order = lexsort_to_indices(&columns, None)?;
    let mut starts = Vec::with_capacity(batches.len());
    let mut total = 0;
    for b in batches {
        starts.push(total);
        total += b.num_rows();
    }
    let rows: Vec<(usize, usize)> = order
        .values()
        .iter()
        .map(|&i| {
            let i = i as usize;
            let b = starts.partition_point(|&s| s <= i) - 1;
            (b, i - starts[b])
        })
        .collect();
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    match arrow::compute::interleave_record_batch(&refs, &rows) {
        Ok(batch) => Ok(batch),
        // An empty set of batches has nothing to interleave.
        Err(_) if total == 0 => Ok(RecordBatch::new_empty(schema.clone())),
        Err(e) => Err(e.into()),
    }
}

/// Splits a batch by the hour of its time column (row order kept within each part).
pub fn split_by_hour(
    signal: Signal,
    batch: &RecordBatch,
) -> Result<Vec<(i64, RecordBatch)>, StorageError> {
    let Some(times) = batch.column_by_name(signal.time_column()) else {
        return Err(StorageError::Encode("time column missing".to_string()));
    };
    let times = times.as_primitive::<Int64Type>();
    let mut groups: std::collections::BTreeMap<i64, Vec<u32>> = Default::default();
    for i in 0..times.len() {
        let hour = times.value(i).div_euclid(HOUR_NS);
        groups
            .entry(hour)
            .or_default()
            .push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    if groups.len() == 1 {
        let hour = *groups.keys().next().unwrap_or(&0);
        return Ok(vec![(hour, batch.clone())]);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (hour, idx) in groups {
        let indices = UInt32Array::from(idx);
        out.push((hour, take_record_batch(batch, &indices)?));
    }
    Ok(out)
}

/// The smallest and largest time of a batch's rows.
pub(crate) fn time_bounds(signal: Signal, batch: &RecordBatch) -> (i64, i64) {
    let Some(col) = batch.column_by_name(signal.time_column()) else {
        return (0, 0);
    };
    let times = col.as_primitive::<Int64Type>();
    let min = arrow::compute::min(times).unwrap_or(0);
    let max = arrow::compute::max(times).unwrap_or(0);
    (min, max)
}

/// Writes one sorted batch of one hour as a new file, durably, and returns its entry.
pub fn write_file(
    root: &Path,
    signal: Signal,
    hour: i64,
    batch: &RecordBatch,
    seq: u64,
    replaces: &[String],
    flush: Option<(u64, usize)>,
) -> Result<FileEntry, StorageError> {
    let dir = root.join(signal.table_name()).join(hour_dir_name(hour));
    fs::create_dir_all(&dir)?;
    let (min_time, max_time) = time_bounds(signal, batch);
    let rows = batch.num_rows() as u64;
    let compacted = !replaces.is_empty();
    let name = format!(
        "{min_time}_{max_time}_{rows}_{seq}{}.parquet",
        if compacted { "c" } else { "" }
    );
    let path = dir.join(&name);
    let tmp = dir.join(format!("{name}.tmp"));
    let file = File::create(&tmp)?;
    let mut writer = ArrowWriter::try_new(
        file,
        batch.schema(),
        Some(writer_properties(signal, replaces, flush)),
    )?;
    writer.write(batch)?;
    let file = writer.into_inner()?;
    file.sync_all()?;
    fs::rename(&tmp, &path)?;
    crate::wal::sync_dir(&dir)?;
    let bytes = fs::metadata(&path)?.len();
    let trace_filter = if has_trace_ids(signal) {
        batch
            .column_by_name("trace_id")
            .and_then(|c| c.as_string_opt::<i32>())
            .map(|ids| {
                let filter = TraceFilter::build(ids.iter().flatten());
                tid::write(&path, &filter);
                Arc::new(filter)
            })
    } else {
        None
    };
    Ok(FileEntry {
        path,
        signal,
        hour,
        min_time,
        max_time,
        rows,
        bytes,
        seq,
        compacted,
        written: std::time::SystemTime::now(),
        trace_filter,
    })
}

/// Whether a signal's files carry trace ids worth a filter.
fn has_trace_ids(signal: Signal) -> bool {
    signal != Signal::Metrics
}

/// Reads the named columns of a file's rows whose string column `key` equals `value`, in the
/// file's own batches. The other columns are decoded for those rows only.
pub fn read_matching(
    path: &Path,
    columns: &[&str],
    key: &str,
    value: &str,
) -> Result<Vec<RecordBatch>, StorageError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let key_mask = ProjectionMask::columns(builder.parquet_schema(), [key]);
    let value = arrow::array::StringArray::new_scalar(value);
    let predicate = ArrowPredicateFn::new(key_mask, move |batch: RecordBatch| {
        let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        arrow::compute::kernels::cmp::eq(&column, &value)
    });
    let reader = builder
        .with_projection(mask)
        .with_row_filter(RowFilter::new(vec![Box::new(predicate)]))
        .build()?;
    Ok(reader.collect::<Result<_, _>>()?)
}

/// Reads a whole file into one batch with the table schema.
pub fn read_file(signal: Signal, path: &Path) -> Result<RecordBatch, StorageError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?.build()?;
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b?);
    }
    let schema = schema::schema(signal);
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(Arc::clone(&schema), b.columns().to_vec()))
        .collect::<Result<_, _>>()?;
    Ok(concat_batches(&schema, &batches)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(services: &[&str], times: &[i64]) -> RecordBatch {
        let rows = services
            .iter()
            .zip(times)
            .map(|(s, t)| model::LogRow {
                time_unix_nano: *t,
                body: format!("{s} at {t}"),
                resource: model::Resource {
                    service_name: (*s).to_string(),
                    ..Default::default()
                }
                .into(),
                ..Default::default()
            })
            .collect();
        schema::to_record_batch(&model::Batch::Logs(rows)).expect("batch")
    }

    #[test]
    fn pages_are_small_enough_for_the_page_index_to_skip_other_services() {
        use parquet::arrow::arrow_reader::ArrowReaderOptions;
        let services: Vec<&str> = ["a", "b", "c"]
            .iter()
            .flat_map(|s| std::iter::repeat_n(*s, 10_000))
            .collect();
        let times: Vec<i64> = (0..30_000).collect();
        let batch = sort_batch(Signal::Logs, &logs(&services, &times)).expect("sort");
        let dir = tempfile::tempdir().expect("tempdir");
        let entry = write_file(dir.path(), Signal::Logs, 0, &batch, 1, &[], None).expect("write");
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
            File::open(&entry.path).unwrap(),
            options,
        )
        .expect("reader");
        let metadata = reader.metadata();
        let column = schema::schema(Signal::Logs)
            .index_of("service_name")
            .expect("column");
        let offsets = metadata.offset_index().expect("offset index");
        let mut pages = 0;
        for (group, index) in offsets.iter().enumerate() {
            let locations = index[column].page_locations();
            let rows = metadata.row_group(group).num_rows();
            for (i, page) in locations.iter().enumerate() {
                let end = locations
                    .get(i + 1)
                    .map_or(rows, |next| next.first_row_index);
                // The limit is checked after each write batch of 1,024 rows.
                assert!(
                    end - page.first_row_index <= 4096 + 1024,
                    "page of {} rows",
                    end - page.first_row_index
                );
                pages += 1;
            }
        }
        assert!(pages >= 30_000 / 5120, "{pages} pages");
    }

    #[test]
    fn sorting_several_batches_equals_sorting_them_concatenated() {
        let batches = vec![
            logs(&["b", "a", "c"], &[5, 9, 1]),
            logs(&["a", "b"], &[3, 2]),
            logs(&[], &[]),
            logs(&["c", "a", "a"], &[7, 1, 4]),
        ];
        let schema = schema::schema(Signal::Logs);
        let gathered = sort_batches(Signal::Logs, &schema, &batches).expect("sort");
        let copied = sort_batch(
            Signal::Logs,
            &concat_batches(&schema, &batches).expect("concat"),
        )
        .expect("sort");
        assert_eq!(gathered, copied);
        assert_eq!(gathered.num_rows(), 8);
        let empty =
            sort_batches(Signal::Logs, &schema, &[logs(&[], &[]), logs(&[], &[])]).expect("empty");
        assert_eq!(empty.num_rows(), 0);
    }
}
