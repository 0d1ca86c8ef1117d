#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Series values split over several locks, picked by the calling thread, and merged when
/// read. The HTTP server updates counters and histograms from one thread per connection; with
/// one lock per metric those threads queued on it (Linux's `Mutex` sleeps in the kernel when
/// contended) and throughput fell by half. Writers now rarely share a lock; readers (a scrape,
/// a test) take each lock once.
final class StripedSeries<Value: Sendable>: Sendable {
    private final class Stripe: Sendable {
        let series: Mutex<[SeriesKey: Value]>
        init(_ initial: [SeriesKey: Value]) { series = Mutex(initial) }
    }

    static var stripeCount: Int { 16 }

    private let stripes: [Stripe]

    /// `initial` goes into the first stripe only, so that merged reads see it once.
    init(initial: [SeriesKey: Value] = [:]) {
        stripes = (0..<Self.stripeCount).map { $0 == 0 ? Stripe(initial) : Stripe([:]) }
    }

    /// Updates the calling thread's stripe.
    func update(_ key: SeriesKey, default defaultValue: @autoclosure () -> Value, _ change: (inout Value) -> Void) {
        stripes[Self.stripeIndex()].series.withLock { series in
            change(&series[key, default: defaultValue()])
        }
    }

    /// Every series, each merged across stripes with `combine`.
    func merged(_ combine: (inout Value, Value) -> Void) -> [SeriesKey: Value] {
        var result: [SeriesKey: Value] = [:]
        for stripe in stripes {
            let snapshot = stripe.series.withLock { $0 }
            for (key, value) in snapshot {
                if result[key] == nil {
                    result[key] = value
                } else {
                    combine(&result[key]!, value)
                }
            }
        }
        return result
    }

    private static func stripeIndex() -> Int {
        var hasher = Hasher()
        hasher.combine(pthread_self())
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(stripeCount))
    }
}
