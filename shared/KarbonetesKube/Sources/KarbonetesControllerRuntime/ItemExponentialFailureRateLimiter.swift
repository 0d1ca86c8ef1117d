import KarbonetesKubeClient

/// Per-key exponential backoff for retries, as client-go's `ItemExponentialFailureRateLimiter`:
/// the n-th consecutive failure of a key waits `base * 2^(n-1)`, capped at `maximum`. A key's
/// count resets only with ``forget(_:)``, which a reconciler calls when the key succeeds.
public struct ItemExponentialFailureRateLimiter<Key: Hashable & Sendable>: Sendable {
    public let base: Duration
    public let maximum: Duration
    private var failures: [Key: Int] = [:]

    /// client-go's controller default: 5 ms up to 1,000 s.
    public init(base: Duration = .milliseconds(5), maximum: Duration = .seconds(1000)) {
        self.base = base
        self.maximum = maximum
    }

    /// The delay before the key's next retry; counts one more failure.
    public mutating func when(_ key: Key) -> Duration {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        return Self.delay(afterFailures: count, base: base, maximum: maximum)
    }

    public mutating func forget(_ key: Key) { failures.removeValue(forKey: key) }

    /// How many times the key failed since it was last forgotten.
    public func numRequeues(_ key: Key) -> Int { failures[key, default: 0] }

    static func delay(afterFailures count: Int, base: Duration, maximum: Duration) -> Duration {
        // 2^count overflows quickly; anything past 2^62 is past any sane maximum anyway.
        guard count < 62 else { return maximum }
        let scaled = base.timeInterval * Double(UInt64(1) << UInt64(count))
        return scaled >= maximum.timeInterval ? maximum : base * (1 << count)
    }
}
