public import Foundation
public import KarbonetesModels

/// Derives the contract's window fields from a forecast: the current window is the run of
/// consecutive slots with the same `green` value around `now`.
public enum GreenSegments {
    /// The reading at `now` from `points` (sorted, not overlapping), or nil when no slot
    /// covers `now`. A gap in the points ends a run, since nothing is known across it.
    public static func reading(in points: [ForecastPoint], at now: Date, rule: String, threshold: Double?)
        -> CurrentReading?
    {
        guard let index = slotIndex(in: points, at: now) else { return nil }
        let slot = points[index]
        var first = index
        while first > 0, points[first - 1].green == slot.green, points[first - 1].end == points[first].start {
            first -= 1
        }
        var last = index
        while last + 1 < points.count, points[last + 1].green == slot.green, points[last].end == points[last + 1].start
        {
            last += 1
        }
        return CurrentReading(
            intensity: slot.intensity,
            green: slot.green,
            rule: rule,
            threshold: threshold,
            windowStart: points[first].start,
            windowEnd: points[last].end,
            nextGreenStart: nextGreenStart(in: points, after: points[last].end)
        )
    }

    /// The start of the first green run beginning at or after `instant`.
    public static func nextGreenStart(in points: [ForecastPoint], after instant: Date) -> Date? {
        points.first { $0.green && $0.start >= instant }?.start
    }

    /// The slot covering `now` (binary search over sorted slots).
    public static func slotIndex(in points: [ForecastPoint], at now: Date) -> Int? {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].end <= now { low = middle + 1 } else { high = middle }
        }
        guard low < points.count, points[low].start <= now, now < points[low].end else { return nil }
        return low
    }
}
