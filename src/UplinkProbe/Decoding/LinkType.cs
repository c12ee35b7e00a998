namespace UplinkProbe.Decoding;

/// <summary>
/// Link-layer header types (tcpdump.org/linktypes.html). Values are the LINKTYPE_ numbers written in
/// pcap and pcapng files; only the ones UplinkProbe decodes are named.
/// </summary>
public enum LinkType : ushort
{
    /// <summary>BSD loopback: a 4-byte address family in the writer's host byte order.</summary>
    Null = 0,
    Ethernet = 1,
    /// <summary>Raw IP (LINKTYPE_RAW); DLT 12/14 are written as 101.</summary>
    Raw = 101,
    /// <summary>OpenBSD loopback: a 4-byte address family in network byte order.</summary>
    Loop = 108,
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,
}
