//! A response body that records its request in the metrics when hyper is done with it: hyper
//! drops a body once its last byte is handed to the socket (or the connection is gone), so the
//! request's duration ends there, not when the handler returns.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

use crate::metrics::{self, METRICS};

pub struct RecordedBody {
    body: Full<Bytes>,
    /// The request's labels, its body's length and when its head was parsed; None when
    /// metrics are off.
    record: Option<(metrics::Request, usize, Instant)>,
}

impl RecordedBody {
    pub fn new(body: Bytes, record: Option<(metrics::Request, Instant)>) -> Self {
        let len = body.len();
        RecordedBody {
            body: Full::new(body),
            record: record.map(|(request, started)| (request, len, started)),
        }
    }
}

impl Drop for RecordedBody {
    fn drop(&mut self) {
        if let Some((request, len, started)) = self.record {
            METRICS.request(request, len, started.elapsed());
        }
    }
}

impl Body for RecordedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
