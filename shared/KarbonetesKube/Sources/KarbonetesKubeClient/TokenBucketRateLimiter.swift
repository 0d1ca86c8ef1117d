public import Foundation

/// Client-side request rate limit (client-go's `--kube-api-qps` and `--kube-api-burst`): up to
/// `burst` requests at once, then `qps` a second, so that a controller catching up after a
/// restart does not flood the API server and get throttled by priority and fairness.
public actor TokenBucketRateLimiter {
    public nonisolated let qps: Double
    public nonisolated let burst: Int
    private let clock: any KubeClock
    private var tokens: Double
    private var last: Date

    /// `qps <= 0` means no limit.
    public init(qps: Double, burst: Int, clock: any KubeClock = WallClock()) {
        self.qps = qps
        self.burst = max(1, burst)
        self.clock = clock
        self.tokens = Double(max(1, burst))
        self.last = clock.now()
    }

    /// Waits for a token. The token is reserved before waiting, so concurrent callers queue
    /// in order and each waits only for its own turn.
    public func acquire() async throws {
        guard let wait = reservation() else { return }
        try await clock.sleep(until: wait)
    }

    /// Takes a token now and returns when its holder may go, or nil for at once.
    public func reservation() -> Date? {
        guard qps > 0 else { return nil }
        let now = clock.now()
        let elapsed = max(0, now.timeIntervalSince(last))
        tokens = min(Double(burst), tokens + elapsed * qps)
        last = now
        tokens -= 1
        if tokens >= 0 { return nil }
        return now.addingTimeInterval(-tokens / qps)
    }
}
