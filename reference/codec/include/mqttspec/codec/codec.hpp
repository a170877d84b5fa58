#pragma once
// Everything of the codec in one include.
#include "mqttspec/codec/decode.hpp"
#include "mqttspec/codec/encode.hpp"
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/frame.hpp"
#include "mqttspec/codec/hex.hpp"
#include "mqttspec/codec/packet.hpp"
#include "mqttspec/codec/property.hpp"
#include "mqttspec/codec/reason_code.hpp"
#include "mqttspec/codec/topic.hpp"
#include "mqttspec/codec/types.hpp"
#include "mqttspec/codec/wire.hpp"
