// Everything cogent offers, in one include.
#pragma once

#include "cogent/errors.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/greenlet_local.hpp"
#include "cogent/switch_value.hpp"
