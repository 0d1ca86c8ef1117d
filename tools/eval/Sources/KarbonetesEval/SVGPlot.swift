public import Foundation
public import KarbonetesCarbon
import KarbonetesModels

/// Draws intensity over time with each strategy's Job starts in a lane below, as plain SVG
/// written by hand (no plotting library exists in the toolchain), so it opens in any browser.
public enum SVGPlot {
    static let width = 1200.0
    static let left = 150.0
    static let right = 20.0
    static let top = 50.0
    static let chartHeight = 260.0
    static let laneHeight = 24.0
    static let colours = ["#6b7280", "#2563eb", "#16a34a", "#d97706", "#db2777", "#111827"]

    public static func render(trace: CarbonTrace, runs: [StrategyRun], from: Date, to: Date, settings: EvaluationSettings, title: String) -> String {
        let plotWidth = width - left - right
        let span = max(to.timeIntervalSince(from), 1)
        func x(_ date: Date) -> Double { left + date.timeIntervalSince(from) / span * plotWidth }
        let segments = trace.segments(from: from, to: to)
        let peak = max(segments.map(\.intensity).max() ?? 1, settings.threshold, 1)
        let yMax = niceCeiling(peak)
        func y(_ intensity: Double) -> Double { top + chartHeight - intensity / yMax * chartHeight }
        let lanesTop = top + chartHeight + 40
        let height = lanesTop + Double(runs.count) * laneHeight + 16

        var svg: [String] = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(f(left))\" y=\"22\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>",
            "<text x=\"\(f(left))\" y=\"38\" fill=\"#374151\">\(escape("\(RFC3339.format(from)) to \(RFC3339.format(to)); shaded: \(settings.staticWindow); dashed: threshold \(GreenRule.number(settings.threshold)) gCO2eq/kWh"))</text>",
        ]

        if case .dailyWindow(let start, let end) = settings.staticWindow {
            var day = (from.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 - 86_400
            while day < to.timeIntervalSince1970 {
                let windowStart = day + Double(start)
                let windowEnd = day + Double(end) + (end <= start ? 86_400 : 0)
                let a = max(windowStart, from.timeIntervalSince1970), b = min(windowEnd, to.timeIntervalSince1970)
                if a < b {
                    let xa = x(Date(timeIntervalSince1970: a)), xb = x(Date(timeIntervalSince1970: b))
                    svg.append("<rect x=\"\(f(xa))\" y=\"\(f(top))\" width=\"\(f(xb - xa))\" height=\"\(f(chartHeight))\" fill=\"#bbf7d0\" opacity=\"0.5\"/>")
                }
                day += 86_400
            }
        }

        for step in 0...5 {
            let value = yMax * Double(step) / 5
            svg.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(value)))\" y2=\"\(f(y(value)))\" stroke=\"#e5e7eb\"/>")
            svg.append("<text x=\"\(f(left - 6))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(GreenRule.number(value))</text>")
        }
        svg.append("<text x=\"\(f(left - 48))\" y=\"\(f(top + chartHeight / 2))\" transform=\"rotate(-90 \(f(left - 48)) \(f(top + chartHeight / 2)))\" text-anchor=\"middle\">gCO2eq/kWh</text>")

        let dayCount = span / 86_400
        let tickDays = max(1, Int((dayCount / 14).rounded(.up)))
        var tick = (from.timeIntervalSince1970 / 86_400).rounded(.up) * 86_400
        while tick <= to.timeIntervalSince1970 {
            let date = Date(timeIntervalSince1970: tick)
            let tx = x(date)
            svg.append("<line x1=\"\(f(tx))\" x2=\"\(f(tx))\" y1=\"\(f(top))\" y2=\"\(f(lanesTop + Double(runs.count) * laneHeight))\" stroke=\"#f3f4f6\"/>")
            if tx <= width - right - 30 {
                svg.append("<text x=\"\(f(tx))\" y=\"\(f(top + chartHeight + 16))\" text-anchor=\"middle\">\(String(RFC3339.format(date).prefix(10)))</text>")
            }
            tick += Double(tickDays) * 86_400
        }

        if let first = segments.first {
            var path = "M\(f(x(first.start))) \(f(y(first.intensity)))"
            for segment in segments {
                path += " V\(f(y(segment.intensity))) H\(f(x(segment.end)))"
            }
            svg.append("<path d=\"\(path)\" fill=\"none\" stroke=\"#1f2937\" stroke-width=\"1.2\"/>")
        }
        svg.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(settings.threshold)))\" y2=\"\(f(y(settings.threshold)))\" stroke=\"#16a34a\" stroke-dasharray=\"6 4\"/>")
        svg.append("<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(chartHeight))\" fill=\"none\" stroke=\"#9ca3af\"/>")

        svg.append("<text x=\"\(f(left))\" y=\"\(f(lanesTop - 10))\" fill=\"#374151\">Job starts per strategy</text>")
        for (lane, run) in runs.enumerated() {
            let colour = colours[lane % colours.count]
            let middle = lanesTop + Double(lane) * laneHeight + laneHeight / 2
            svg.append("<text x=\"\(f(left - 6))\" y=\"\(f(middle + 4))\" text-anchor=\"end\" fill=\"\(colour)\">\(escape(run.strategy.rawValue))</text>")
            svg.append("<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(middle))\" y2=\"\(f(middle))\" stroke=\"#f3f4f6\"/>")
            var ticks = ""
            for job in run.runs where job.start >= from && job.start < to {
                let jx = x(job.start)
                ticks += "M\(f(jx)) \(f(middle - 8))V\(f(middle + 8))"
            }
            if !ticks.isEmpty { svg.append("<path d=\"\(ticks)\" stroke=\"\(colour)\" stroke-width=\"1\" opacity=\"0.8\"/>") }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// 1, 2 or 5 times a power of ten, at or above the value: round axis labels.
    static func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, (log10(value)).rounded(.down))
        for factor in [1.0, 2, 2.5, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
