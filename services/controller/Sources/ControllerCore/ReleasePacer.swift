public import Foundation

/// Paces carbon-motivated releases per policy (a token bucket of `rate` per minute, burst
/// `rate`), so that a green flip does not ask Karpenter for hundreds of nodes in one second.
/// Deadlines and manual releases never ask the pacer: they always go at once.
public actor ReleasePacer {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private var buckets: [String: Bucket] = [:]

    public init() {}

    /// Takes a token for `policy` if one is there and returns `nil`; else returns when the next
    /// token will be there (nothing is taken).
    public func reserve(policy: String, ratePerMinute: Int, now: Date) -> Date? {
        let rate = Double(ratePerMinute) / 60
        var bucket = buckets[policy] ?? Bucket(tokens: Double(ratePerMinute), updated: now)
        bucket.tokens = min(Double(ratePerMinute), bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
        bucket.updated = now
        defer { buckets[policy] = bucket }
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            return nil
        }
        return now.addingTimeInterval((1 - bucket.tokens) / rate)
    }
}
