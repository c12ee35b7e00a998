namespace UplinkProbe.Capture;

/// <summary>Which way a packet crossed the capturing interface, when the capture says so.</summary>
public enum PacketDirection : byte
{
    /// <summary>The capture carries no direction (classic pcap on Ethernet, pcapng without epb_flags).</summary>
    Unknown = 0,
    Inbound = 1,
    Outbound = 2,
}
