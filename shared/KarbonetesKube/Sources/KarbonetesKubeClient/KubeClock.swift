public import Foundation

/// The time source of everything here whose behaviour depends on time (rate limits,
/// `Retry-After`, backoff, delayed work-queue adds, leader election), injected so that tests
/// move time by hand instead of waiting for it.
///
/// Wall-clock `Date`, because Lease and Event times are wall-clock times the API server stores.
public protocol KubeClock: Sendable {
    func now() -> Date
    /// Returns at or after `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

extension KubeClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().addingTimeInterval(duration.timeInterval))
    }
}

/// The real clock.
public struct WallClock: KubeClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        if interval > 0 {
            try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        } else {
            try Task.checkCancellation()
        }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`, for date arithmetic.
    package var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }

    package init(timeInterval: TimeInterval) {
        self = .nanoseconds(Int64((timeInterval * 1e9).rounded()))
    }
}
