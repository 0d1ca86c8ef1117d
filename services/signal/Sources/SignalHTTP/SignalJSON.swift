public import Foundation
public import KarbonetesModels

/// `/v1/signal`'s body written by hand: the hottest path of the service, where `JSONEncoder`
/// took most of the CPU under wrk. Byte for byte what `KubernetesJSON.encoder` writes (sorted
/// keys, RFC 3339 seconds, no escaped slashes); a test compares the two.
public enum SignalJSON {
    public static func encode(_ signal: CarbonSignal) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        func key(_ name: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
        func time(_ date: Date) { JSONValueWriter.appendString(RFC3339.format(date), to: &out) }
        key("{\"ageSeconds\":")
        JSONValueWriter.appendNumber(signal.ageSeconds, to: &out)
        key(signal.green ? ",\"green\":true" : ",\"green\":false")
        key(",\"intensity\":")
        JSONValueWriter.appendNumber(signal.intensity, to: &out)
        if let next = signal.nextGreenStart {
            key(",\"nextGreenStart\":")
            time(next)
        }
        key(",\"observedAt\":")
        time(signal.observedAt)
        key(",\"region\":")
        JSONValueWriter.appendString(signal.region, to: &out)
        key(",\"rule\":")
        JSONValueWriter.appendString(signal.rule, to: &out)
        key(",\"source\":")
        JSONValueWriter.appendString(signal.source, to: &out)
        key(signal.stale ? ",\"stale\":true" : ",\"stale\":false")
        if let threshold = signal.threshold {
            key(",\"threshold\":")
            JSONValueWriter.appendNumber(threshold, to: &out)
        }
        key(",\"windowEnd\":")
        time(signal.windowEnd)
        key(",\"windowStart\":")
        time(signal.windowStart)
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }
}
