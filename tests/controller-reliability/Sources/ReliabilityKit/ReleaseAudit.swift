public import Foundation
public import KarbonetesModels

/// A span of time in which no controller was leading (from a `kill -9` until a replacement
/// was seen leading), during which no Job can be released on time.
public struct Outage: Sendable, Hashable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }
}

/// What a scenario promises about its releases.
public struct ReleaseExpectations: Sendable {
    /// When the signal was flipped green (nil: never); Jobs may be released from then on.
    public var greenFlip: Date?
    /// How late after its release condition a Job may be released: one reconcile interval
    /// (the controller's signal poll interval) plus `tolerance`.
    public var reconcileInterval: TimeInterval
    /// Scheduling slack on a loaded machine, stated separately so a report can show it.
    public var tolerance: TimeInterval
    /// The release reasons the scenario allows.
    public var allowedReasons: Set<String>
    public var outages: [Outage]
    /// Releases a second the bound assumes when many Jobs fall due at the same moment (a green
    /// flip, or the end of an outage with deadlines inside it): a Job that is the n-th of such
    /// a burst may be n / burstRate later. Nil: no allowance (every Job within the interval).
    public var burstRate: Double?

    public init(
        greenFlip: Date?, reconcileInterval: TimeInterval, tolerance: TimeInterval = 0.5, allowedReasons: Set<String>, outages: [Outage] = [],
        burstRate: Double? = nil
    ) {
        self.greenFlip = greenFlip
        self.reconcileInterval = reconcileInterval
        self.tolerance = tolerance
        self.allowedReasons = allowedReasons
        self.outages = outages
        self.burstRate = burstRate
    }
}

/// The audit's findings: every violation, named by Job, and the figures.
public struct ReleaseAuditReport: Sendable, CustomStringConvertible {
    public var violations: [String] = []
    public var released = 0
    public var successfulWrites = 0
    public var attemptedWrites = 0
    public var byReason: [String: Int] = [:]
    /// The largest controller up-time between a Job's release condition and its release.
    public var maxLateness: TimeInterval = 0

    public var description: String {
        let reasons = byReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let head = "released=\(released) writes_ok=\(successfulWrites) writes_attempted=\(attemptedWrites) max_lateness_s=\(String(format: "%.3f", maxLateness)) reasons=\(reasons)"
        guard !violations.isEmpty else { return head }
        return head + "\n" + violations.prefix(30).joined(separator: "\n") + (violations.count > 30 ? "\n… \(violations.count - 30) more" : "")
    }
}

/// Checks the end state of a scenario against its promises: each planned Job released
/// exactly once (one successful write to it, as the recording proxy saw), released with its
/// annotations, never before its release condition, and never later than the condition plus
/// one reconcile interval of controller up-time (time in outages does not count).
public enum ReleaseAudit {
    public static func isReleased(_ job: Job) -> Bool {
        !job.isSuspended && job.metadata.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
    }

    public static func audit(plans: [HeldJobPlan], finalJobs: [ObjectKey: Job], writes: [JobWrite], expectations: ReleaseExpectations) -> ReleaseAuditReport {
        var report = ReleaseAuditReport()
        let byKey = Dictionary(grouping: writes, by: \.key)
        let outages = merged(expectations.outages)
        // How many Jobs fall due at each moment (the flip, an outage's end, a whole second).
        let dueAt = Dictionary(grouping: plans) { plan in
            adjusted(min(plan.deadline, expectations.greenFlip ?? .distantFuture), outages: outages)
        }.mapValues(\.count)
        for plan in plans {
            let name = plan.key.description
            let jobWrites = byKey[plan.key] ?? []
            let successes = jobWrites.filter(\.succeeded).sorted { $0.answeredAt < $1.answeredAt }
            report.attemptedWrites += jobWrites.count
            report.successfulWrites += successes.count
            guard let job = finalJobs[plan.key] else {
                report.violations.append("\(name): missing at the end")
                continue
            }
            guard isReleased(job) else {
                let state = "suspend=\(job.isSuspended), state=\(job.metadata.annotation(CarbonAnnotations.state) ?? "none")"
                if let acknowledged = successes.first {
                    report.violations.append("\(name): not released (\(state)) although a release write was acknowledged at \(stamp(acknowledged.answeredAt)): the API server lost it")
                } else {
                    report.violations.append("\(name): not released (\(state))")
                }
                continue
            }
            report.released += 1
            let reason = job.metadata.annotation(CarbonAnnotations.releaseReason) ?? ""
            report.byReason[reason, default: 0] += 1
            if job.metadata.annotation(CarbonAnnotations.releasedAt).flatMap(RFC3339.parse) == nil {
                report.violations.append("\(name): no readable \(CarbonAnnotations.releasedAt) annotation")
            }
            if !expectations.allowedReasons.contains(reason) {
                report.violations.append("\(name): release reason \"\(reason)\" is not one of \(expectations.allowedReasons.sorted())")
            }
            guard successes.count == 1, let release = successes.first else {
                report.violations.append("\(name): \(successes.count) successful writes (want exactly 1)")
                continue
            }
            let at = release.answeredAt
            let condition = min(plan.deadline, expectations.greenFlip ?? .distantFuture)
            if reason == ReleaseReason.maxDelay.rawValue, at < plan.deadline {
                report.violations.append("\(name): released for max-delay at \(stamp(at)), before its deadline \(stamp(plan.deadline))")
            } else if reason == ReleaseReason.greenWindow.rawValue, at < (expectations.greenFlip ?? .distantFuture) {
                report.violations.append("\(name): released for a green window at \(stamp(at)), before the signal turned green")
            } else if at < condition {
                report.violations.append("\(name): released at \(stamp(at)), before its release condition \(stamp(condition))")
            }
            let lateness = upTime(from: condition, to: at, outages: outages)
            report.maxLateness = max(report.maxLateness, lateness)
            let burst = dueAt[adjusted(condition, outages: outages)] ?? 1
            let queueing = expectations.burstRate.map { Double(burst) / $0 } ?? 0
            let allowed = expectations.reconcileInterval + expectations.tolerance + queueing
            if lateness > allowed {
                report.violations.append(
                    "\(name): released \(String(format: "%.3f", lateness)) s of controller up-time after its release condition \(stamp(condition)) "
                        + "(at \(stamp(at)); allowed \(expectations.reconcileInterval) s + \(expectations.tolerance) s + "
                        + "\(String(format: "%.2f", queueing)) s for \(burst) Jobs due at once)")
            }
        }
        return report
    }

    /// The condition moved to the end of any outage it falls in (outages may follow each other).
    static func adjusted(_ condition: Date, outages: [Outage]) -> Date {
        var due = condition
        var moved = true
        while moved {
            moved = false
            for outage in outages where outage.start <= due && due < outage.end {
                due = outage.end
                moved = true
            }
        }
        return due
    }

    /// How long a controller was up between `start` and `end`: the time between them minus
    /// the outages within it. A release is late by this, so a Job whose reconcile interval was
    /// cut by a `kill -9` gets the interval back once a replacement leads.
    static func upTime(from start: Date, to end: Date, outages: [Outage]) -> TimeInterval {
        guard end > start else { return end.timeIntervalSince(start) }
        var down: TimeInterval = 0
        for outage in outages {
            let from = max(outage.start, start)
            let to = min(outage.end, end)
            if to > from { down += to.timeIntervalSince(from) }
        }
        return end.timeIntervalSince(start) - down
    }

    /// Outages sorted and joined where they overlap, so that no time is subtracted twice.
    static func merged(_ outages: [Outage]) -> [Outage] {
        var result: [Outage] = []
        for outage in outages.sorted(by: { $0.start < $1.start }) {
            if let last = result.last, outage.start <= last.end {
                result[result.count - 1].end = max(last.end, outage.end)
            } else {
                result.append(outage)
            }
        }
        return result
    }

    static func stamp(_ date: Date) -> String {
        RFC3339.formatMicro(date)
    }
}
