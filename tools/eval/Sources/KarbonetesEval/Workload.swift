public import Foundation
import KarbonetesModels

/// One Job of a workload: when it is submitted, how long it runs, how long it may wait.
public struct EvalJob: Sendable, Hashable {
    public var index: Int
    public var arrival: Date
    public var duration: TimeInterval
    public var maxDelay: TimeInterval
    /// Created by a CronJob: the Job carries the CronJob controller's scheduled-time annotation
    /// and owner reference, so the engine's deadline comes from the schedule as in a cluster.
    public var fromCronJob: Bool

    public init(index: Int, arrival: Date, duration: TimeInterval, maxDelay: TimeInterval, fromCronJob: Bool = false) {
        self.index = index
        self.arrival = arrival
        self.duration = duration
        self.maxDelay = maxDelay
        self.fromCronJob = fromCronJob
    }

    public var deadline: Date { arrival.addingTimeInterval(maxDelay) }
}

/// How long each Job runs.
public enum DurationDistribution: Sendable, Hashable, CustomStringConvertible {
    case fixed(TimeInterval)
    /// Uniform over [low, high], drawn per Job from the workload's seed.
    case uniform(TimeInterval, TimeInterval)

    /// The longest a Job can run, so arrivals stop early enough for every run to fit the trace.
    public var maximum: TimeInterval {
        switch self {
        case .fixed(let value): return value
        case .uniform(_, let high): return high
        }
    }

    public var description: String {
        switch self {
        case .fixed(let value): return goSpelling(value)
        case .uniform(let low, let high): return "\(goSpelling(low))..\(goSpelling(high))"
        }
    }

    func draw(using generator: inout SeededGenerator) -> TimeInterval {
        switch self {
        case .fixed(let value): return value
        case .uniform(let low, let high): return (Double.random(in: low...high, using: &generator)).rounded()
        }
    }
}

/// A workload as `--workload` spells it: arrivals, then `;`-separated options.
///
/// - `poisson:RATE` with RATE like `1/h`, `0.5/h`, `24/d`, `2/m`: Poisson arrivals (exponential
///   gaps) from the seed.
/// - `every:DURATION`: one Job every DURATION from the start of the range (`every:6h`).
/// - `cron:EXPR`: CronJob-like, five fields in UTC (`cron:0 2 * * *`, `cron:*/30 8-18 * * 1-5`)
///   or `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly`.
/// - options: `duration=1h` (fixed) or `duration=30m..3h` (uniform; default 1h), `seed=N`
///   (default 1).
public struct WorkloadSpec: Sendable, Hashable, CustomStringConvertible {
    public enum Arrivals: Sendable, Hashable {
        case poisson(perSecond: Double)
        case every(TimeInterval)
        case cron(CronSchedule)
    }

    public var text: String
    public var arrivals: Arrivals
    public var duration: DurationDistribution
    public var seed: UInt64

    public init(parsing text: String) throws {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let head = parts.first, let colon = head.firstIndex(of: ":") else {
            throw EvalInputError.workload(text, "expected KIND:ARGUMENT first")
        }
        let kind = head[..<colon].lowercased()
        let argument = String(head[head.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        switch kind {
        case "poisson": arrivals = .poisson(perSecond: try Self.rate(argument, spec: text))
        case "every":
            let period = try Self.duration(argument, spec: text, what: "period")
            guard period > 0 else { throw EvalInputError.workload(text, "the period must be more than zero") }
            arrivals = .every(period)
        case "cron": arrivals = .cron(try CronSchedule(parsing: argument))
        default: throw EvalInputError.workload(text, "unknown arrival kind \"\(kind)\" (use poisson, every or cron)")
        }
        duration = .fixed(3600)
        seed = 1
        for option in parts.dropFirst() where !option.isEmpty {
            guard let equals = option.firstIndex(of: "=") else { throw EvalInputError.workload(text, "option \"\(option)\" is not key=value") }
            let key = option[..<equals].trimmingCharacters(in: .whitespaces)
            let value = option[option.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "duration":
                if let range = value.range(of: "..") {
                    let low = try Self.duration(String(value[..<range.lowerBound]), spec: text, what: "duration")
                    let high = try Self.duration(String(value[range.upperBound...]), spec: text, what: "duration")
                    guard low > 0, low <= high else { throw EvalInputError.workload(text, "duration range \(value) must be 0 < low <= high") }
                    duration = .uniform(low, high)
                } else {
                    let fixed = try Self.duration(value, spec: text, what: "duration")
                    guard fixed > 0 else { throw EvalInputError.workload(text, "the duration must be more than zero") }
                    duration = .fixed(fixed)
                }
            case "seed":
                guard let number = UInt64(value) else { throw EvalInputError.workload(text, "seed \"\(value)\" is not a non-negative integer") }
                seed = number
            default:
                throw EvalInputError.workload(text, "unknown option \"\(key)\" (use duration or seed)")
            }
        }
        self.text = text
    }

    public var description: String { text }

    /// The Jobs arriving in [from, to), each allowed `maxDelay`, numbered from 0.
    public func jobs(from: Date, to: Date, maxDelay: TimeInterval) -> [EvalJob] {
        var generator = SeededGenerator(seed: seed)
        var arrivals: [Date] = []
        switch self.arrivals {
        case .poisson(let rate):
            var time = from.timeIntervalSince1970
            while true {
                // 1 - U is in (0, 1], so the logarithm is finite.
                time += -log(1 - Double.random(in: 0..<1, using: &generator)) / rate
                guard time < to.timeIntervalSince1970 else { break }
                // Kubernetes times have whole seconds.
                arrivals.append(Date(timeIntervalSince1970: time.rounded(.down)))
            }
        case .every(let period):
            var time = from
            while time < to {
                arrivals.append(time)
                time = time.addingTimeInterval(period)
            }
        case .cron(let schedule):
            arrivals = schedule.times(from: from, to: to)
        }
        let fromCronJob = if case .cron = self.arrivals { true } else { false }
        return arrivals.enumerated().map { index, arrival in
            EvalJob(index: index, arrival: arrival, duration: duration.draw(using: &generator), maxDelay: maxDelay, fromCronJob: fromCronJob)
        }
    }

    private static func rate(_ text: String, spec: String) throws -> Double {
        let pieces = text.split(separator: "/")
        let units: [String: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard pieces.count == 2, let count = Double(pieces[0]), count > 0, count.isFinite, let unit = units[String(pieces[1])] else {
            throw EvalInputError.workload(spec, "rate \"\(text)\" is not COUNT/UNIT with a positive count and unit s, m, h or d (e.g. 1/h)")
        }
        return count / unit
    }

    private static func duration(_ text: String, spec: String, what: String) throws -> TimeInterval {
        do {
            return try GoDuration(parsing: text.trimmingCharacters(in: .whitespaces)).timeInterval
        } catch {
            throw EvalInputError.workload(spec, "\(what): \(error)")
        }
    }
}

/// Go's spelling of a whole-second duration (`1h30m0s`), as `--max-delay` takes it back.
func goSpelling(_ seconds: TimeInterval) -> String {
    GoDuration(nanoseconds: Int64((seconds * 1e9).rounded())).description
}

/// A small, fast, seedable generator (SplitMix64), so a workload or a noisy forecast is the
/// same on every run and every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A stateless hash of the same quality, for values that must not depend on the order in
    /// which they are asked for.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
