package import Foundation

/// Writing message heads. `package` so that only the server and the client of this package use
/// it; handlers never write bytes themselves.
package enum HTTPSerialization {
    /// The status line and headers of a response, ending with the empty line.
    package static func responseHead(
        status: HTTPStatus,
        headers: HTTPHeaders,
        contentLength: Int?,
        chunked: Bool,
        close: Bool,
        keepAliveHeader: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + headers.count * 32)
        out.append(contentsOf: "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
        for field in headers {
            if HTTPHeaders.namesMatch(field.name, "Content-Length") || HTTPHeaders.namesMatch(field.name, "Transfer-Encoding")
                || HTTPHeaders.namesMatch(field.name, "Connection")
            {
                continue
            }
            appendField(&out, field.name, field.value)
        }
        if let contentLength {
            out.append(contentsOf: "Content-Length: \(contentLength)\r\n".utf8)
        } else if chunked {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if close {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if keepAliveHeader {
            // HTTP/1.0 clients keep the connection only when the response says so.
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: [13, 10])
        return out
    }

    /// The request line and headers the client sends.
    package static func requestHead(method: HTTPMethod, target: String, headers: HTTPHeaders) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + headers.count * 32)
        out.append(contentsOf: "\(method.rawValue) \(target) HTTP/1.1\r\n".utf8)
        for field in headers { appendField(&out, field.name, field.value) }
        out.append(contentsOf: [13, 10])
        return out
    }

    /// One chunk of a chunked body: size in hex, CRLF, data, CRLF.
    package static func chunk(_ data: Data) -> [UInt8] {
        var out: [UInt8] = Array(String(data.count, radix: 16).utf8)
        out.reserveCapacity(out.count + data.count + 4)
        out.append(contentsOf: [13, 10])
        out.append(contentsOf: data)
        out.append(contentsOf: [13, 10])
        return out
    }

    package static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// A header value with CR or LF would split the message (response splitting): such bytes
    /// are replaced by spaces.
    private static func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
        for byte in value.utf8 { out.append(byte == 13 || byte == 10 ? UInt8(ascii: " ") : byte) }
        out.append(contentsOf: [13, 10])
    }
}
