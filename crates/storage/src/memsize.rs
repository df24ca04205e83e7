//! Memory of record batches as the allocator sees it: every allocation counted once.
//!
//! Arrow's `get_array_memory_size` adds the capacity of each buffer's allocation, so columns
//! that are slices of one allocation count it once per column. A batch read back from the WAL
//! is exactly that (every column points into the frame's one IPC body), and summing it that
//! way reported about twenty times the memory the process held after a restart.

use arrow::array::{Array, ArrayData, RecordBatch};
use arrow::buffer::Buffer;
use rustc_hash::FxHashSet;

/// Bytes held by a batch's buffers, each underlying allocation once.
pub(crate) fn batch_memory(batch: &RecordBatch) -> usize {
    let mut seen = FxHashSet::default();
    let mut total = 0;
    for column in batch.columns() {
        add_data(&column.to_data(), &mut seen, &mut total);
    }
    total
}

fn add_data(data: &ArrayData, seen: &mut FxHashSet<usize>, total: &mut usize) {
    for buffer in data.buffers() {
        add_buffer(buffer, seen, total);
    }
    if let Some(nulls) = data.nulls() {
        add_buffer(nulls.buffer(), seen, total);
    }
    for child in data.child_data() {
        add_data(child, seen, total);
    }
}

fn add_buffer(buffer: &Buffer, seen: &mut FxHashSet<usize>, total: &mut usize) {
    if seen.insert(buffer.data_ptr().as_ptr() as usize) {
        // Externally owned memory reports no capacity: count what the buffer shows.
        *total += buffer.capacity().max(buffer.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn logs(n: usize) -> RecordBatch {
        let rows = (0..n)
            .map(|i| model::LogRow {
                time_unix_nano: i as i64,
                body: format!("line {i} with some text to make it longer"),
                ..Default::default()
            })
            .collect();
        schema::to_record_batch(&model::Batch::Logs(rows)).expect("batch")
    }

    #[test]
    fn a_batch_from_one_allocation_counts_it_once() {
        let batch = logs(10_000);
        let fresh = batch_memory(&batch);
        assert!(fresh <= batch.get_array_memory_size());
        let frame = crate::wal::encode_batch(&batch).expect("encode");
        let reader =
            arrow::ipc::reader::StreamReader::try_new(&frame[..], None).expect("ipc reader");
        let replayed: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        let counted: usize = replayed.iter().map(batch_memory).sum();
        // One body allocation, about the size of the frame, not once per column.
        assert!(
            counted <= frame.len() * 2,
            "{counted} for a {} byte frame",
            frame.len()
        );
        let naive: usize = replayed
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum();
        assert!(naive > counted * 5, "naive {naive}, counted {counted}");
    }

    /// After a restart the replayed memtable counts about what it held before, and an append
    /// right after opening is accepted (it was refused as overload until the first flush).
    #[tokio::test]
    async fn replay_counts_the_memory_it_holds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = || {
            let mut c = crate::StoreConfig::new(dir.path());
            c.flush_interval = std::time::Duration::from_secs(3600);
            c
        };
        let before = {
            let store = crate::Store::open(config()).expect("open");
            for i in 0..20 {
                let rows = (0..2_000)
                    .map(|j| model::LogRow {
                        time_unix_nano: i * 10_000 + j,
                        body: format!("request {j} of batch {i} took {j}ms"),
                        severity_text: "INFO".into(),
                        ..Default::default()
                    })
                    .collect();
                store
                    .append(model::Batch::Logs(rows))
                    .await
                    .expect("append");
            }
            store.memtable_bytes()
        };
        let mut limited = config();
        limited.max_memtable_bytes = before * 2;
        let store = crate::Store::open(limited).expect("reopen");
        let after = store.memtable_bytes();
        assert!(
            after <= before * 3 / 2 && after >= before / 3,
            "{after} bytes after replay, {before} before"
        );
        store
            .append(model::Batch::Logs(vec![model::LogRow::default()]))
            .await
            .expect("an append right after open is accepted");
    }
}
